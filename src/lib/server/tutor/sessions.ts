/**
 * Durable tutoring sessions. A conversation behaves like a durable object: one generation at a time
 * (a lease in its row, fenced on every write), one ordered event log, any number of watchers on any
 * replica. The owner numbers events as they stream and hands them to local watchers at once; the
 * flusher saves every running generation's new events in one statement, renewing the leases (a
 * replica that lost its lease writes nothing); other replicas hear of them by NOTIFY. A generation
 * belongs to no socket. If an owner dies, its lease lapses and any replica marks the answer
 * interrupted (see store.recoverExpired).
 *
 * @example
 * const sessions = new Sessions({ database, config, hooks: { idle, ended } });
 * await sessions.start();
 * sessions.launch(new Generation({ ... }), turns.start(...));
 */
import { hostname } from 'node:os';
import type { ErrorCode, LogEvent, NewLogEvent, ServerMessage } from '#lib/ws/protocol.ts';
import type { Config } from '#lib/server/config.ts';
import type { Database, Db } from '#lib/server/db/index.ts';
import { ProviderError } from '#lib/server/ai/types.ts';
import { logger } from '#lib/server/log.ts';
import * as convos from './conversations';
import { Fanout, type Socket, type Subscription } from './fanout';
import * as log from './log';
import { outcomeOf, type Outcome, type StopReason } from './answer';
import * as store from './store';
import { Flusher } from './flusher';
import type { Known } from './early-start';
import type { Generation } from './generation';
import type { Started } from './turn';

/** Unsaved events that force a flush before the timer. */
const FLUSH_AT_EVENTS = 200;
/** The longest time between flushes, reached with `BUSY_GENERATIONS` answers streaming here. */
const BUSY_FLUSH_MS = 250;
const BUSY_GENERATIONS = 200;
/** An owner that cannot save this many events stops rather than show text it may lose. */
const MAX_UNSAVED_EVENTS = 900;

export type Failure = { ok: false; code: ErrorCode; message: string; retryAfterSeconds?: number };
export const NOT_FOUND: Failure = {
	ok: false,
	code: 'not_found',
	message: 'This conversation does not exist.'
};

export interface SessionHooks {
	/** A snapshot showed the conversation idle, as `known` (see early-start.ts). */
	idle(conversationId: string, known: Known): void;
	/** A generation has ended and its end is saved, or it was lost. */
	ended(g: Generation): Promise<void>;
}

export class Sessions {
	readonly replicaId = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
	readonly fanout = new Fanout({ read: (id, since) => this.#read(id, since) });
	readonly #database: Database;
	readonly #config: Config;
	readonly #hooks: SessionHooks;
	/** Running generations, by conversation (one at a time per conversation). */
	readonly #running = new Map<string, Generation>();
	readonly #flusher = new Flusher({ every: () => this.#flushEvery(), save: () => this.#save() });
	#recoveryTimer: ReturnType<typeof setInterval> | undefined;
	#unlisten: (() => Promise<void>)[] = [];

	constructor(options: { database: Database; config: Config; hooks: SessionHooks }) {
		this.#database = options.database;
		this.#config = options.config;
		this.#hooks = options.hooks;
	}

	get #db(): Db {
		return this.#database.db;
	}

	async start() {
		if (this.#database.kind === 'postgres')
			this.#unlisten.push(
				await this.#database.listen(store.EVENTS_CHANNEL, (p) => this.#onEventsNotice(p)),
				await this.#database.listen(store.CONTROL_CHANNEL, (p) => this.#onControl(p))
			);
		this.#flusher.start();
		const every = Math.max(500, Math.min(5000, (this.#config.tutor.leaseSeconds * 1000) / 3));
		this.#recoveryTimer = setInterval(() => void this.recoverExpired(), every);
		this.#recoveryTimer.unref();
		await this.recoverExpired();
	}

	/** Lets running answers finish for up to `graceMs`, then saves the rest as interrupted. */
	async close(graceMs: number) {
		const running = [...this.#running.values()].map((g) => g.done.promise);
		const within = (ms: number) => Promise.race([Promise.all(running), sleep(ms)]);
		await within(graceMs);
		for (const g of this.#running.values()) g.controller.abort('shutdown' satisfies StopReason);
		await within(5000);
		clearInterval(this.#recoveryTimer);
		await this.#flusher.stop();
		for (const unlisten of this.#unlisten) await unlisten().catch(() => {});
		this.fanout.close();
	}

	/**
	 * Starts watching a conversation. With `since` (the last number the client rendered) it gets what
	 * came after; without, or when `since` is not in the saved log, a snapshot first.
	 */
	async subscribe(
		socket: Socket,
		userId: string,
		conversationId: string,
		since: number | undefined
	): Promise<{ ok: true; subscription: Subscription } | Failure> {
		const conversation = await convos.get(this.#db, userId, conversationId);
		if (!conversation) return NOT_FOUND;
		if (
			conversation.generationId &&
			(conversation.leaseExpiresAt?.getTime() ?? Infinity) < Date.now()
		)
			await this.recoverExpired();
		const resume = since !== undefined && since > 0 && (await this.#exists(conversationId, since));
		const sub = this.fanout.add(conversationId, socket, resume ? since : 0);
		sub.pulling = true; // live delivery waits until the starting point has been sent
		try {
			if (!resume) {
				const snap = await convos.snapshot(this.#db, conversationId);
				if (!snap) {
					this.fanout.remove(sub);
					return NOT_FOUND;
				}
				const { lastSeq, title, generationId, context } = snap.conversation;
				socket.send({
					v: 1,
					type: 'snapshot',
					conversationId,
					seq: lastSeq,
					title,
					generating: Boolean(generationId) || this.#running.has(conversationId),
					messages: snap.messages,
					hasEarlier: snap.hasEarlier
				} satisfies ServerMessage);
				sub.lastSeq = lastSeq;
				if (!generationId) {
					const history = snap.messages.flatMap((m) =>
						m.content ? [{ role: m.role, content: m.content }] : []
					);
					this.#hooks.idle(conversationId, { userId, history, context });
				}
			}
		} finally {
			sub.pulling = false;
		}
		await this.fanout.pull(sub);
		return { ok: true, subscription: sub };
	}

	async #read(conversationId: string, since: number): Promise<LogEvent[]> {
		const saved = await log.replay(this.#db, conversationId, since);
		const local = this.#running.get(conversationId);
		if (!local) return saved;
		const after = saved.at(-1)?.seq ?? since;
		return saved.concat(local.events.filter((e) => e.seq > after));
	}

	async #exists(conversationId: string, seq: number) {
		if (this.#running.get(conversationId)?.events.some((e) => e.seq === seq)) return true;
		return log.has(this.#db, conversationId, seq);
	}

	/** A payload holds one or more `conversation|seq|replica` notices, separated by `;`. */
	#onEventsNotice(payload: string) {
		for (const notice of payload.split(';')) {
			const [conversationId, seq, replica] = notice.split('|');
			if (conversationId && replica !== this.replicaId)
				this.fanout.notify(conversationId, Number(seq));
		}
	}

	#onControl(payload: string) {
		try {
			const { action, generationId } = JSON.parse(payload) as {
				action: string;
				generationId: string;
			};
			const g = [...this.#running.values()].find((r) => r.id === generationId);
			if (g && action === 'stop') g.controller.abort('stop' satisfies StopReason);
		} catch {
			logger().warn('malformed control notice ignored');
		}
	}

	/** Runs an answer whose question or restart the database accepted. */
	launch(g: Generation, started: Promise<Started>) {
		this.#running.set(g.conversationId, g);
		for (const e of g.events) this.fanout.publish(g.conversationId, e);
		void this.#run(g, started);
	}

	async #run(g: Generation, starting: Promise<Started>) {
		try {
			const { plan, iterator, first } = await starting;
			g.plan = plan;
			if (plan.notice)
				this.#emit(g, { type: 'notice', messageId: g.messageId, notice: plan.notice });
			for (
				let step = await first;
				!step.done && !g.controller.signal.aborted;
				step = await iterator.next()
			) {
				const event = step.value;
				if (event.type === 'text' && event.text) {
					g.answer.firstToken();
					this.#emit(g, { type: 'delta', messageId: g.messageId, text: event.text });
				} else if (event.type === 'done') g.usage = event.usage ?? null;
			}
			if (g.controller.signal.aborted) throw new ProviderError('aborted', 'aborted');
			await this.#finish(g, { type: 'done', messageId: g.messageId }, 'complete', null);
		} catch (error) {
			const ended = g.controller.signal.aborted
				? outcomeOf(g.controller.signal.reason as StopReason)
				: null;
			if (ended === 'lost') return this.#lose(g);
			if (ended) {
				const type = ended as 'stopped' | 'interrupted';
				return this.#finish(g, { type, messageId: g.messageId }, type, null);
			}
			const pe =
				error instanceof ProviderError
					? error
					: new ProviderError('server_error', String(error), { cause: error });
			if (error === pe)
				logger().warn(
					{ kind: pe.kind, status: pe.status, conversationId: g.conversationId },
					'provider error'
				);
			else
				logger().error({ err: error, conversationId: g.conversationId }, 'tutor generation failed');
			const end: NewLogEvent = {
				type: 'error',
				messageId: g.messageId,
				kind: pe.kind,
				message: pe.userMessage,
				retryable: pe.kind !== 'auth'
			};
			await this.#finish(g, end, 'error', pe.kind);
		}
	}

	#emit(g: Generation, partial: NewLogEvent) {
		this.fanout.publish(g.conversationId, g.emit(partial));
		if (g.seq - g.savedSeq >= MAX_UNSAVED_EVENTS)
			g.controller.abort('storage' satisfies StopReason);
		else if (g.pendingEvents >= FLUSH_AT_EVENTS) void this.#flusher.flush();
	}

	/**
	 * Saving the end is the point of a durable session: it is tried until it succeeds (or the lease
	 * is gone), first with the next periodic flush (hundreds of answers ending each second must not
	 * each force one), at once when a question to this conversation comes meanwhile (`#settle`).
	 */
	async #finish(g: Generation, end: NewLogEvent, outcome: Outcome, errorKind: string | null) {
		g.finish(end, outcome, errorKind);
		await this.#flusher.next();
		for (let attempt = 0; this.#running.get(g.conversationId) === g; attempt++) {
			await sleep(Math.min(2000, 100 * 2 ** attempt));
			await this.#flusher.flush();
		}
		await this.#hooks.ended(g);
		g.done.resolve();
	}

	/** Its lease was taken over: it stops and writes nothing more. */
	#lose(g: Generation) {
		g.controller.abort('lost-lease' satisfies StopReason);
		if (!g.answer.finished) g.answer.lose();
		if (this.#running.get(g.conversationId) === g) this.#running.delete(g.conversationId);
		g.done.resolve();
	}

	/** Saves every running generation's unsaved events now (see flusher.ts). */
	flush(): Promise<void> {
		return this.#flusher.flush();
	}

	/**
	 * `flushMs`, stretched toward `BUSY_FLUSH_MS` as more answers stream here: every flush writes a
	 * log row per streaming answer, so under load fewer, larger rows. Watchers here get every token live.
	 */
	#flushEvery() {
		const { flushMs } = this.#config.tutor;
		if (flushMs >= BUSY_FLUSH_MS) return flushMs;
		return flushMs + (BUSY_FLUSH_MS - flushMs) * Math.min(1, this.#running.size / BUSY_GENERATIONS);
	}

	/** An answer here has ended but is not saved: save it now, so the conversation is free. */
	async settle(conversationId: string) {
		if (this.#running.get(conversationId)?.answer.releasing) await this.#flusher.flush();
	}

	/** The generation running here for the conversation. */
	running(conversationId: string): Generation | undefined {
		return this.#running.get(conversationId);
	}

	get size() {
		return this.#running.size;
	}

	async #save() {
		const now = Date.now();
		const renewEvery = (this.#config.tutor.leaseSeconds * 1000) / 3;
		const batch = [...this.#running.values()].flatMap((g) => {
			const taken = g.take(now, renewEvery, this.replicaId);
			return taken ? [{ g, taken }] : [];
		});
		if (!batch.length) return;
		let kept: Set<string>;
		try {
			kept = await store.save(
				this.#database.background,
				batch.map((b) => b.taken.save),
				this.#config.tutor.leaseSeconds
			);
		} catch (err) {
			for (const { g, taken } of batch) g.unsaved(taken);
			logger().warn({ err }, 'flush failed; will retry');
			return;
		}
		for (const { g, taken } of batch) {
			if (!kept.has(g.conversationId)) {
				logger().warn(
					{ conversationId: g.conversationId },
					'generation lost its lease; stopping it'
				);
				this.#lose(g);
				this.fanout.notify(g.conversationId, g.seq); // watchers here read the new owner's log
				continue;
			}
			g.saved(taken);
			if (taken.save.release) {
				this.#running.delete(g.conversationId);
				if (g.end) this.fanout.publish(g.conversationId, g.end);
			}
		}
	}

	/** Closes answers whose owner stopped renewing its lease (it crashed or lost the database). */
	async recoverExpired() {
		try {
			for (const row of await store.recoverExpired(this.#db)) {
				logger().warn(
					{ conversationId: row.id },
					'owner of a generation stopped renewing its lease; answer marked interrupted'
				);
				const local = this.#running.get(row.id);
				if (local) this.#lose(local);
				this.fanout.notify(row.id, Number(row.last_seq));
			}
		} catch (err) {
			logger().warn({ err }, 'recovery sweep failed');
		}
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
