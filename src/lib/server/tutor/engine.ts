/**
 * Durable tutoring sessions. A conversation behaves like a durable object: one generation at a time
 * (a lease in its row, fenced on every write), one ordered event log, any number of watchers on any
 * replica.
 *
 * - The owner numbers events as they stream and hands them to local watchers at once; a flusher
 *   writes every running generation's new events in one statement every `flushMs`, renewing the
 *   leases in the same statement (a replica that lost its lease writes nothing).
 * - Other replicas learn of new events through NOTIFY and read them from the log.
 * - A generation belongs to no socket: closing the tab does not stop it.
 * - If an owner dies, its lease lapses; any replica then marks the partial answer interrupted,
 *   numbering that event past anything the dead owner could have shown, so clients that saw unsaved
 *   text notice and resync to the saved truth.
 *
 * @example
 * const engine = new TutorEngine({ database, config, provider });
 * await engine.start();
 * await engine.send(user.id, conversationId, clientId, 'Why does my loop never end?');
 */
import { eq } from 'drizzle-orm';
import { hostname } from 'node:os';
import type {
	ChatMessageView,
	ErrorCode,
	LogEvent,
	NewLogEvent,
	ServerMessage
} from '#lib/ws/protocol.ts';
import type { Config } from '../config';
import type { Database, Db } from '../db';
import { conversations } from '../db/schema';
import {
	ProviderError,
	type ChatMessage,
	type Provider,
	type StreamEvent,
	type Usage
} from '../ai/types';
import { logger } from '../log';
import * as rateLimit from '../rate-limit';
import * as convos from './conversations';
import { Fanout, type Socket, type Subscription } from './fanout';
import * as log from './log';
import { buildPrompt, questionNotes, type TutorContext } from './prompt';
import { BudgetReached, CostControl, type Reserved, type TurnPlan } from '../cost/control';
import { overallLevel } from '../practice/diagnostic';
import type { SkillLevel } from '../db/schema-practice';
import * as retrieval from './retrieval';
import { guardSolution } from './solution-guard';
import { Answer, outcomeOf, type Outcome, type StopReason } from './answer';
import * as store from './store';
import { Flusher } from './flusher';
import { EarlyStart, type Known } from './early-start';
import { CONTROL_CHANNEL, EVENTS_CHANNEL, type RestartRefusal } from './store';
import { resolveContext } from '../learn/tutor-context';

export { RECOVERY_GAP } from './store';
/** Unsaved events that force a flush before the timer. */
const FLUSH_AT_EVENTS = 200;
/** The longest time between flushes, reached with `BUSY_GENERATIONS` answers streaming here. */
const BUSY_FLUSH_MS = 250;
const BUSY_GENERATIONS = 200;
/** An owner that cannot save this many events stops rather than show text it may lose. */
const MAX_UNSAVED_EVENTS = 900;
const CONTINUE_INSTRUCTION =
	'(Continue your previous answer exactly where it stopped. Do not repeat what you already wrote.)';

/** A provider call already under way: its first event is being awaited since it started. */
interface Stream {
	iterator: AsyncIterator<StreamEvent>;
	first: Promise<IteratorResult<StreamEvent>>;
}

/** An answer under way and the cost decision behind it. */
interface Started {
	plan: TurnPlan;
	stream: Stream;
}

/** A cached answer streamed like a live one (in short pieces, so Stop still works). */
async function* replay(text: string, signal: AbortSignal): AsyncGenerator<StreamEvent> {
	for (const piece of text.match(/[\s\S]{1,48}/g) ?? []) {
		if (signal.aborted) throw new ProviderError('aborted', 'stopped');
		yield { type: 'text', text: piece };
		await new Promise((r) => setImmediate(r));
	}
	yield { type: 'done' };
}

/** Runs a cancelled stream to its end, so whatever it holds (a shared answer's followers) is let go. */
async function drain(stream: Stream) {
	try {
		for (let step = await stream.first; !step.done; step = await stream.iterator.next());
	} catch {
		// cancelled: expected
	}
}

interface Generation {
	id: string;
	conversationId: string;
	messageId: string;
	controller: AbortController;
	/** Last sequence number handed out. */
	seq: number;
	/** Last sequence number known to be in the database. */
	savedSeq: number;
	/** This generation's events, kept for watchers that join mid-answer on this replica. */
	events: LogEvent[];
	pending: LogEvent[];
	/** Log rows a failed flush may or may not have written: retried exactly as built (idempotent). */
	unsure: log.Row[];
	/** Text streamed since the last flush (appended to the message row). */
	unsavedText: string;
	/** Characters (code points) of the answer's text known to be saved. */
	savedChars: number;
	/** Where the answer is in its life (see answer.ts). */
	answer: Answer;
	usage: Usage | null;
	/** The cost decision for this answer (null until it is made). */
	plan: TurnPlan | null;
	/** Everything this generation streamed (for the usage log and the response cache). */
	text: string;
	/** The end event (done, stopped, ...): delivered once saved, so a client that saw it finds the conversation free. */
	end: LogEvent | null;
	/** The conversation as it will be once this answer is saved, but for the answer (see `Known`). */
	next: Known | null;
	lastRenewAt: number;
	/**
	 * Other replicas have not been told of this generation's first events yet (the send statement
	 * leaves that to the next flush: a NOTIFY in it would serialize every question's commit).
	 */
	announce: boolean;
	done: Promise<void>;
	resolveDone: () => void;
}

export type Failure = { ok: false; code: ErrorCode; message: string; retryAfterSeconds?: number };
export type EngineResult = { ok: true } | Failure;

const RESTART_REFUSED: Record<RestartRefusal, [ErrorCode, string]> = {
	not_found: ['not_found', 'This conversation does not exist.'],
	busy: ['busy', 'The tutor is still answering.'],
	no_answer: ['nothing_to_continue', 'There is no answer to continue or regenerate.'],
	complete: ['nothing_to_continue', 'The last answer is already complete.']
};

const fail = (code: ErrorCode, message: string, retryAfterSeconds?: number): Failure => ({
	ok: false,
	code,
	message,
	...(retryAfterSeconds ? { retryAfterSeconds } : {})
});

export class TutorEngine {
	readonly replicaId = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
	readonly fanout: Fanout;
	readonly #database: Database;
	readonly #config: Config;
	readonly #provider: Provider;
	readonly #retrieve: retrieval.Retrieve;
	readonly #cost: CostControl;
	readonly #generations = new Map<string, Generation>();
	/** The same generations by conversation (one at a time per conversation). */
	readonly #byConversation = new Map<string, Generation>();
	readonly #early: EarlyStart<Started>;
	readonly #flusher = new Flusher({
		every: () => this.#flushEvery(),
		save: () => this.#flushOnce()
	});
	#recoveryTimer: ReturnType<typeof setInterval> | undefined;
	#unlisten: (() => Promise<void>)[] = [];
	#closing = false;

	constructor(options: {
		database: Database;
		config: Config;
		provider: Provider;
		/** Course retrieval; full-text search when not given. */
		retrieve?: retrieval.Retrieve;
		/** Answers from the course material when a budget is reached (the offline tutor). */
		fallback?: Provider;
	}) {
		this.#database = options.database;
		this.#config = options.config;
		this.#provider = options.provider;
		this.#retrieve = options.retrieve ?? retrieval.createRetriever(options.database.db, null);
		this.fanout = new Fanout({ read: (id, since) => this.#read(id, since) });
		this.#early = new EarlyStart<Started>({
			enabled: options.config.tutor.earlyStart,
			readLevel: (userId) => overallLevel(this.#db, userId),
			discard: (started) => void drain(started.stream)
		});
		this.#cost = new CostControl({
			db: () => this.#db,
			background: () => this.#database.background,
			config: options.config,
			provider: options.provider,
			fallback: options.fallback
		});
	}

	get #db(): Db {
		return this.#database.db;
	}

	get activeGenerations() {
		return this.#generations.size;
	}

	async start() {
		const { leaseSeconds } = this.#config.tutor;
		if (this.#database.kind === 'postgres') {
			this.#unlisten.push(
				await this.#database.listen(EVENTS_CHANNEL, (payload) => this.#onEventsNotice(payload)),
				await this.#database.listen(CONTROL_CHANNEL, (payload) => this.#onControl(payload))
			);
		}
		this.#flusher.start();
		const every = Math.max(500, Math.min(5000, (leaseSeconds * 1000) / 3));
		this.#recoveryTimer = setInterval(() => void this.recoverExpired(), every);
		this.#recoveryTimer.unref();
		await this.#cost.start();
		await this.recoverExpired();
	}

	/** Stops taking work, lets running answers finish for up to `graceMs`, saves the rest as interrupted. */
	async close(graceMs: number) {
		this.#closing = true;
		const running = [...this.#generations.values()];
		if (running.length) {
			const all = Promise.all(running.map((g) => g.done));
			const timer = new Promise((r) => setTimeout(r, graceMs).unref());
			await Promise.race([all, timer]);
			for (const g of this.#generations.values()) g.controller.abort('shutdown');
			await Promise.race([
				Promise.all(running.map((g) => g.done)),
				new Promise((r) => setTimeout(r, 5000).unref())
			]);
		}
		clearInterval(this.#recoveryTimer);
		await this.#cost.stop();
		await this.#flusher.stop();
		for (const unlisten of this.#unlisten) await unlisten().catch(() => {});
		this.fanout.close();
	}

	// ---------------------------------------------------------------- watching

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
		if (!conversation) return fail('not_found', 'This conversation does not exist.');
		if (
			conversation.generationId &&
			conversation.leaseExpiresAt &&
			conversation.leaseExpiresAt.getTime() < Date.now()
		)
			await this.recoverExpired();
		const resume = since !== undefined && since > 0 && (await this.#exists(conversationId, since));
		const sub = this.fanout.add(conversationId, socket, resume ? since : 0);
		// Hold live delivery until the starting point has been sent.
		sub.pulling = true;
		try {
			if (!resume) {
				const snap = await convos.snapshot(this.#db, conversationId);
				if (!snap) {
					this.fanout.remove(sub);
					return fail('not_found', 'This conversation does not exist.');
				}
				socket.send(this.#snapshotMessage(conversationId, snap.conversation, snap.messages));
				sub.lastSeq = snap.conversation.lastSeq;
				if (!snap.conversation.generationId) {
					this.#early.saw(conversationId, {
						userId,
						history: snap.messages
							.filter((m) => m.content)
							.map((m) => ({ role: m.role, content: m.content })),
						context: snap.conversation.context
					});
					this.#early.prefetchLevel(userId);
				}
			}
		} finally {
			sub.pulling = false;
		}
		await this.fanout.pull(sub);
		return { ok: true, subscription: sub };
	}

	#snapshotMessage(
		conversationId: string,
		conversation: { lastSeq: number; title: string; generationId: string | null },
		list: ChatMessageView[]
	): ServerMessage {
		const local = this.#generationFor(conversationId);
		return {
			v: 1,
			type: 'snapshot',
			conversationId,
			seq: conversation.lastSeq,
			title: conversation.title,
			generating: Boolean(conversation.generationId) || Boolean(local),
			messages: list
		};
	}

	#generationFor(conversationId: string) {
		return this.#byConversation.get(conversationId);
	}

	/** The generation has ended here: saved, fenced off or dropped. */
	#forget(g: Generation) {
		this.#generations.delete(g.id);
		if (this.#byConversation.get(g.conversationId) === g)
			this.#byConversation.delete(g.conversationId);
	}

	async #read(conversationId: string, since: number): Promise<LogEvent[]> {
		const saved = await log.replay(this.#db, conversationId, since);
		const local = this.#generationFor(conversationId);
		if (!local) return saved;
		const after = saved.at(-1)?.seq ?? since;
		return saved.concat(local.events.filter((e) => e.seq > after));
	}

	async #exists(conversationId: string, seq: number) {
		const local = this.#generationFor(conversationId);
		if (local?.events.some((e) => e.seq === seq)) return true;
		return log.has(this.#db, conversationId, seq);
	}

	/** A payload holds one or more `conversation|seq|replica` notices, separated by `;`. */
	#onEventsNotice(payload: string) {
		for (const notice of payload.split(';')) {
			const [conversationId, seq, replica] = notice.split('|');
			if (!conversationId || replica === this.replicaId) continue;
			this.fanout.notify(conversationId, Number(seq));
		}
	}

	#onControl(payload: string) {
		try {
			const { action, generationId } = JSON.parse(payload) as {
				action: string;
				generationId: string;
			};
			const g = this.#generations.get(generationId);
			if (g && action === 'stop') g.controller.abort('stop');
		} catch {
			logger().warn('malformed control notice ignored');
		}
	}

	// ---------------------------------------------------------------- starting answers

	async #limited(userId: string): Promise<EngineResult | null> {
		const r = await rateLimit.hit(this.#db, `tutor:user:${userId}`, this.#config.tutor.rateLimit);
		return r.allowed
			? null
			: fail(
					'rate_limited',
					`You are sending messages very fast. Try again in ${r.retryAfterSeconds} s.`,
					r.retryAfterSeconds
				);
	}

	/**
	 * Adds the student's message and starts the tutor's answer. A resent `clientId` is ignored.
	 *
	 * One statement does the database side (see `#begin`), so a question costs one round trip
	 * besides the course search, which runs beside it.
	 */
	async send(
		userId: string,
		conversationId: string,
		clientId: string,
		text: string
	): Promise<EngineResult> {
		if (this.#closing)
			return fail('busy', 'The server is restarting. Your message will be sent again in a moment.');
		await this.#settle(conversationId);
		// Everything a question needs from the database runs side by side: the send statement (which
		// also reads the student's level and, when the question is accepted, reserves its worst-case
		// cost against the budgets) and the course search. When this replica knows the conversation,
		// the answer starts beside them too, from what it knows (see early-start.ts).
		const searched = this.#retrieve(text, 3).catch((): retrieval.Passage[] => []);
		const early = this.#generationFor(conversationId)
			? null
			: this.#early.begin(userId, conversationId, async (known, level, controller) => {
					const [passages, resolved] = await Promise.all([
						searched,
						this.#resolve(userId, known.context, level)
					]);
					const history: ChatMessage[] = [...known.history, { role: 'user', content: text }];
					const input = { userId, question: text, fresh: true, history, passages, ...resolved };
					return this.#startStream(input, controller, true);
				});
		const confirmed = (async () => {
			// The budgets are the cost service's own statement, beside the send statement; a refused
			// question's reservation is taken back.
			const reserving = this.#cost.reserveQuestion(userId);
			reserving.catch(() => {}); // awaited below
			const [begun, passages] = await Promise.all([
				this.#begin(userId, conversationId, clientId, text),
				searched
			]).catch((err: unknown) => {
				void reserving.then((r) => this.#cost.unreserve(r)).catch(() => {});
				throw err;
			});
			const reserved = await reserving.catch((err: unknown) => {
				logger().warn({ err }, 'reserving against the budgets failed; answering unreserved');
				return null;
			});
			if (begun.status === 'ok') return { begun, passages, reserved };
			await this.#cost.unreserve(reserved).catch((err: unknown) => {
				logger().warn({ err }, 'taking back a refused question’s reservation failed');
			});
			return { begun, passages, reserved: null };
		})();
		if (early) confirmed.catch(() => this.#early.confirm(early, null));
		const { begun, passages, reserved } = await confirmed;
		// The history the send statement read, as the prompt takes it: messages with text.
		const prior = begun.status === 'ok' ? begun.history.filter((m) => m.content) : [];
		const accepted = begun.status === 'ok' && (reserved === null || reserved.ok);
		const kept = early
			? await this.#early.confirm(early, accepted ? { ...begun, history: prior } : null)
			: null;
		if (kept) this.#cost.attachReservation(kept.plan, reserved);
		if (begun.status === 'duplicate') return { ok: true };
		if (begun.status === 'not_found') return fail('not_found', 'This conversation does not exist.');
		if (begun.status === 'busy')
			return fail(
				'busy',
				'The tutor is still answering. Stop it or wait for the answer to finish.'
			);
		if (begun.status === 'rate_limited')
			return fail(
				'rate_limited',
				`You are sending messages very fast. Try again in ${begun.retryAfterSeconds} s.`,
				begun.retryAfterSeconds
			);
		this.#early.levelRead(userId, begun.level);
		const history: ChatMessage[] = [...prior, { role: 'user', content: text }];
		const controller = kept ? early!.controller : new AbortController();
		const started =
			kept ??
			(await this.#startStream(
				{
					userId,
					question: text,
					fresh: true,
					history,
					...(await this.#resolve(userId, begun.context, begun.level)),
					passages,
					reserved
				},
				controller
			).catch((error: unknown) => {
				void this.#cost.release(reserved);
				return { error };
			}));
		if (begun.title) this.#broadcastTitle(conversationId, begun.title);
		this.#launch(conversationId, begun.generationId, begun.answerId, begun.seq, begun.events, {
			controller,
			started,
			next: { userId, history, context: begun.context }
		});
		return { ok: true };
	}

	/**
	 * Every conversation gets the student's level; one opened from a lesson or a practice answer
	 * also carries that place in the course.
	 */
	#resolve(userId: string, stored: unknown, level: SkillLevel | null) {
		return resolveContext(this.#db, userId, stored ?? {}, level).catch(
			(): Awaited<ReturnType<typeof resolveContext>> => ({ context: null, solution: null })
		);
	}

	/**
	 * The database side of a question, as one statement: counts it against the student's rate
	 * limit, locks the conversation, refuses a duplicate or a second generation, reads the history,
	 * inserts the question and the empty answer, claims the conversation with a lease and logs both
	 * events. Message ids are made here so the events can name them. Other replicas hear of the
	 * question from the next flush (`flushMs` later at most), not from a NOTIFY here: PostgreSQL
	 * commits notifying transactions one at a time, holding a database-wide lock through the commit's
	 * WAL flush, and one in every question made all questions queue for it.
	 */
	async #begin(userId: string, conversationId: string, clientId: string, text: string) {
		return store.begin(this.#db, {
			userId,
			conversationId,
			clientId,
			text,
			model: this.#provider.model,
			replicaId: this.replicaId,
			leaseSeconds: this.#config.tutor.leaseSeconds,
			rateLimit: this.#config.tutor.rateLimit
		});
	}

	/** Picks up a stopped, interrupted or failed answer where it ended. */
	async continueAnswer(userId: string, conversationId: string): Promise<EngineResult> {
		return this.#restart(userId, conversationId, 'continue');
	}

	/** Replaces the last answer with a new one (also how "Retry" works after an error). */
	async regenerate(userId: string, conversationId: string): Promise<EngineResult> {
		return this.#restart(userId, conversationId, 'regenerate');
	}

	async #restart(
		userId: string,
		conversationId: string,
		mode: 'continue' | 'regenerate'
	): Promise<EngineResult> {
		if (this.#closing) return fail('busy', 'The server is restarting. Try again in a moment.');
		await this.#settle(conversationId);
		this.#early.forget(conversationId); // its history is about to change
		const tooFast = await this.#limited(userId);
		if (tooFast) return tooFast;
		const started = await store.restart(this.#db, {
			userId,
			conversationId,
			mode,
			model: this.#provider.model,
			replicaId: this.replicaId,
			leaseSeconds: this.#config.tutor.leaseSeconds
		});
		if (!started.ok) return fail(...RESTART_REFUSED[started.reason]);
		this.#launch(
			conversationId,
			started.generationId,
			started.messageId,
			started.seq,
			[started.event],
			{
				prefix: started.prefix,
				mode: mode === 'continue' ? 'continue' : 'answer'
			}
		);
		return { ok: true };
	}

	#broadcastTitle(conversationId: string, title: string) {
		// Titles are not part of the log: watchers on this replica are told now, others on their next load.
		this.fanout.broadcast(conversationId, { v: 1, type: 'conversation', conversationId, title });
	}

	/** Stops the running answer, wherever it runs. Stopping nothing is not an error. */
	async stop(userId: string, conversationId: string): Promise<EngineResult> {
		const conversation = await convos.get(this.#db, userId, conversationId);
		if (!conversation) return fail('not_found', 'This conversation does not exist.');
		const local = this.#generationFor(conversationId);
		if (local) {
			local.controller.abort('stop');
			await local.done;
			return { ok: true };
		}
		if (conversation.generationId) await store.requestStop(this.#db, conversation.generationId);
		return { ok: true };
	}

	// ---------------------------------------------------------------- running answers

	#launch(
		conversationId: string,
		generationId: string,
		messageId: string,
		seq: number,
		events: LogEvent[],
		how:
			| { controller: AbortController; started: Started | { error: unknown }; next: Known }
			| { prefix: string; mode: 'answer' | 'continue' }
	) {
		let resolveDone!: () => void;
		const g: Generation = {
			id: generationId,
			conversationId,
			messageId,
			controller: 'controller' in how ? how.controller : new AbortController(),
			seq,
			savedSeq: seq,
			events: [...events],
			pending: [],
			unsure: [],
			unsavedText: '',
			savedChars: 'prefix' in how ? [...how.prefix].length : 0,
			answer: new Answer(Date.now),
			usage: null,
			plan: null,
			text: '',
			end: null,
			next: 'next' in how ? how.next : null,
			lastRenewAt: Date.now(),
			announce: 'controller' in how,
			done: new Promise<void>((r) => (resolveDone = r)),
			resolveDone: () => resolveDone()
		};
		this.#generations.set(generationId, g);
		this.#byConversation.set(conversationId, g);
		for (const e of events) this.fanout.publish(conversationId, e);
		void this.#run(g, 'started' in how ? how.started : undefined, 'mode' in how ? how : {});
	}

	/**
	 * Builds the prompt, makes the cost decision (cache, model, budget) and starts the answer: the
	 * provider call, the offline tutor, or a replay of a cached answer. The first event is already
	 * on its way when this returns.
	 */
	async #startStream(
		input: {
			userId: string;
			/** The student's words (without the per-question notes). */
			question: string;
			/** A new question, rather than a continue or a regenerate. */
			fresh: boolean;
			history: ChatMessage[];
			context: TutorContext | null;
			passages: retrieval.Passage[];
			/** An unsolved exercise's reference solution: code reproducing it is withheld. */
			solution: string | null;
			lessonId?: string | null;
			starterCode?: string | null;
			reserved?: Reserved;
		},
		controller: AbortController,
		/** The reservation comes later (an early start: see early-start.ts). */
		reservationLater = false
	): Promise<Started> {
		const prompt = buildPrompt({ ...input, budget: this.#config.llm.historyTokenBudget });
		const plan = await this.#cost.plan({
			userId: input.userId,
			question: input.question,
			fresh: input.fresh,
			history: input.history.slice(0, -1),
			prompt,
			notes: questionNotes(input.context, input.passages),
			context: input.context,
			lessonId: input.lessonId,
			starterCode: input.starterCode,
			reserved: input.reserved,
			reservationLater
		});
		const signal = controller.signal;
		const live = (request = prompt) => {
			const raw = plan.provider.stream({
				...request,
				maxTokens: this.#config.llm.maxOutputTokens,
				signal,
				promptCache: this.#config.cost.promptCache,
				...(plan.model !== plan.provider.model ? { model: plan.model } : {})
			});
			return input.solution
				? guardSolution(raw, input.solution, () =>
						logger().info('tutor answer withheld code reproducing an exercise solution')
					)
				: raw;
		};
		const cost = this.#cost;
		const budget = this.#config.llm.historyTokenBudget;
		// The same question is being answered: stream that answer as it comes. If it stops or fails
		// first, answer on our own, continuing what was shown.
		async function* following(): AsyncGenerator<StreamEvent> {
			const shown = yield* cost.follow(plan, signal);
			if (shown === null) {
				yield { type: 'done' };
				return;
			}
			const history = [
				...input.history,
				{ role: 'assistant' as const, content: shown },
				{ role: 'user' as const, content: CONTINUE_INSTRUCTION }
			];
			yield* cost.share(plan, live(shown ? buildPrompt({ ...input, history, budget }) : prompt));
		}
		const events: AsyncIterable<StreamEvent> = plan.follow
			? following()
			: plan.cached
				? replay(plan.cached.answer, signal)
				: cost.share(plan, live());
		const iterator = events[Symbol.asyncIterator]();
		const first = iterator.next();
		first.catch(() => {}); // handled when the run loop awaits it
		return { plan, stream: { iterator, first } };
	}

	async #prepare(g: Generation, prefix: string, mode: 'answer' | 'continue'): Promise<Started> {
		const [conversation] = await this.#db
			.select({ context: conversations.context, userId: conversations.userId })
			.from(conversations)
			.where(eq(conversations.id, g.conversationId));
		const rows = await convos.history(this.#db, g.conversationId);
		const history: ChatMessage[] = rows
			.filter((m) => m.id !== g.messageId && m.content)
			.map((m) => ({ role: m.role, content: m.content }));
		if (mode === 'continue' && prefix)
			history.push(
				{ role: 'assistant', content: prefix },
				{ role: 'user', content: CONTINUE_INSTRUCTION }
			);
		const question = [...history].reverse().find((m) => m.role === 'user')?.content ?? '';
		const passages = await this.#retrieve(question, 3).catch(() => []);
		const resolved = conversation
			? await resolveContext(this.#db, conversation.userId, conversation.context ?? {})
			: { context: null, solution: null };
		return this.#startStream(
			{
				userId: conversation?.userId ?? '',
				question,
				fresh: false,
				history,
				context: resolved.context,
				passages,
				solution: resolved.solution,
				lessonId: resolved.lessonId,
				starterCode: resolved.starterCode
			},
			g.controller
		);
	}

	async #run(
		g: Generation,
		prepared: Started | { error: unknown } | undefined,
		how: { prefix?: string; mode?: 'answer' | 'continue' }
	) {
		try {
			const started = prepared ?? (await this.#prepare(g, how.prefix ?? '', how.mode ?? 'answer'));
			if ('error' in started) throw started.error;
			const { stream, plan } = started;
			g.plan = plan;
			if (plan.notice)
				this.#emit(g, { type: 'notice', messageId: g.messageId, notice: plan.notice });
			for (let step = await stream.first; !step.done; step = await stream.iterator.next()) {
				const event = step.value;
				if (g.controller.signal.aborted) break;
				if (event.type === 'text' && event.text) {
					g.answer.firstToken();
					g.text += event.text;
					g.unsavedText += event.text;
					this.#emit(g, { type: 'delta', messageId: g.messageId, text: event.text });
				} else if (event.type === 'done') {
					g.usage = event.usage ?? null;
				}
			}
			if (g.controller.signal.aborted) throw new ProviderError('aborted', 'aborted');
			await this.#finish(g, { type: 'done', messageId: g.messageId }, 'complete', null);
		} catch (error) {
			const ended = g.controller.signal.aborted
				? outcomeOf(g.controller.signal.reason as StopReason)
				: null;
			if (ended === 'lost') {
				this.#lose(g);
			} else if (ended === 'stopped' || ended === 'interrupted') {
				await this.#finish(g, { type: ended, messageId: g.messageId }, ended, null);
			} else {
				const pe =
					error instanceof ProviderError
						? error
						: error instanceof BudgetReached
							? new ProviderError('rate_limited', 'budget reached', { cause: error })
							: new ProviderError('server_error', String(error), { cause: error });
				if (!(error instanceof ProviderError) && !(error instanceof BudgetReached))
					logger().error(
						{ err: error, conversationId: g.conversationId },
						'tutor generation failed'
					);
				else
					logger().warn(
						{ kind: pe.kind, status: pe.status, conversationId: g.conversationId },
						'provider error'
					);
				await this.#finish(
					g,
					{
						type: 'error',
						messageId: g.messageId,
						kind: pe.kind,
						message: pe.userMessage,
						retryable: pe.kind !== 'auth'
					},
					'error',
					pe.kind
				);
			}
		}
	}

	#emit(g: Generation, partial: NewLogEvent) {
		const event = { ...partial, seq: ++g.seq } as LogEvent;
		g.events.push(event);
		g.pending.push(event);
		this.fanout.publish(g.conversationId, event);
		if (g.seq - g.savedSeq >= MAX_UNSAVED_EVENTS) g.controller.abort('storage');
		else if (g.pending.length >= FLUSH_AT_EVENTS) void this.flush();
	}

	async #finish(g: Generation, end: NewLogEvent, outcome: Outcome, errorKind: string | null) {
		g.answer.end(outcome, errorKind);
		g.end = { ...end, seq: ++g.seq } as LogEvent;
		g.pending.push(g.end);
		// Saving the end is the point of a durable session: keep trying while the process lives.
		// A successful (or fenced-off) flush removes the generation from the map. The first try is
		// the next periodic flush, with every other answer's events: an ending answer does not force
		// a flush of its own (hundreds ending each second would flush back to back and write a log
		// row per token). A question to this conversation meanwhile flushes at once (`#settle`).
		await this.#flusher.next();
		for (let attempt = 0; this.#generations.has(g.id); attempt++) {
			await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
			await this.flush();
		}
		if (g.next && g.answer.state !== 'lost') {
			const history = g.text
				? [...g.next.history, { role: 'assistant' as const, content: g.text }]
				: g.next.history;
			this.#early.saw(g.conversationId, { ...g.next, history });
		}
		await this.#recordUsage(g);
		g.resolveDone();
	}

	async #recordUsage(g: Generation) {
		if (!g.plan) return;
		await this.#cost.record(g.plan, {
			conversationId: g.conversationId,
			messageId: g.messageId,
			outcome: g.answer.messageStatus,
			errorKind: g.answer.errorKind,
			usage: g.usage,
			text: g.text,
			firstTokenAt: g.answer.firstTokenAt
		});
	}

	/** Its lease was taken over: it stops and writes nothing more. */
	#lose(g: Generation) {
		g.controller.abort('lost-lease');
		if (!g.answer.finished) g.answer.lose();
		this.#forget(g);
		g.resolveDone();
	}

	/**
	 * Writes every running generation's unsaved events in one statement, renewing leases (see
	 * flusher.ts for when). A generation whose lease was taken over writes nothing and stops.
	 */
	flush(): Promise<void> {
		return this.#flusher.flush();
	}

	/**
	 * The time between flushes: `flushMs`, stretched toward `BUSY_FLUSH_MS` as more answers stream
	 * here at once. Every flush writes a log row per streaming answer, so under load a longer
	 * interval writes fewer, larger rows (the database's work is per row); watchers here get every
	 * token live regardless, and those on other replicas still see text several times a second.
	 */
	#flushEvery() {
		const { flushMs } = this.#config.tutor;
		if (flushMs >= BUSY_FLUSH_MS) return flushMs;
		const load = Math.min(1, this.#generations.size / BUSY_GENERATIONS);
		return flushMs + (BUSY_FLUSH_MS - flushMs) * load;
	}

	/**
	 * Before a question or a restart on a conversation whose answer here has ended but is not saved
	 * yet: saves it now, so the database no longer shows the conversation busy.
	 */
	async #settle(conversationId: string) {
		if (this.#generationFor(conversationId)?.answer.releasing) await this.flush();
	}

	async #flushOnce() {
		const renewEvery = (this.#config.tutor.leaseSeconds * 1000) / 3;
		const now = Date.now();
		// Every flush logs the new events (that is what watchers and resuming clients read). Only a
		// renewing flush, every third of a lease or at the end, also writes the conversation row
		// (lease, last_seq) and the message text, and it writes them together: a snapshot's text
		// always matches its last_seq, and the log holds everything after it.
		const batch = [...this.#generations.values()]
			.filter(
				(g) =>
					g.pending.length ||
					g.unsure.length ||
					g.answer.releasing ||
					g.announce ||
					now - g.lastRenewAt >= renewEvery
			)
			.map((g) => {
				const release = g.answer.releasing;
				const renew = release || now - g.lastRenewAt >= renewEvery;
				const text = renew ? g.unsavedText : '';
				if (renew) g.unsavedText = '';
				const announce = g.announce;
				const events = g.pending.splice(0);
				const rows = [...g.unsure.splice(0), ...log.toRows(g.conversationId, events)];
				return { g, events, rows, text, release, renew, announce };
			});
		if (!batch.length) return;
		try {
			const kept = await store.save(
				this.#database.background,
				batch.map((b) => ({
					conversationId: b.g.conversationId,
					generationId: b.g.id,
					lastSeq: b.g.seq,
					release: b.release,
					renew: b.renew,
					notice:
						b.rows.length || b.release || b.announce
							? `${b.g.conversationId}|${b.g.seq}|${this.replicaId}`
							: null,
					rows: b.rows,
					message:
						b.text || b.release || b.g.usage
							? {
									id: b.g.messageId,
									savedChars: b.g.savedChars,
									text: b.text,
									status: b.g.answer.messageStatus,
									errorKind: b.g.answer.errorKind,
									usage: b.g.usage,
									notice: b.g.plan?.notice ?? null,
									model: b.g.plan?.model ?? null
								}
							: null
				})),
				this.#config.tutor.leaseSeconds
			);
			for (const b of batch) {
				if (kept.has(b.g.conversationId)) {
					b.g.savedSeq = b.rows.at(-1)?.seq ?? b.g.savedSeq;
					for (const _ of b.text) b.g.savedChars++;
					if (b.renew) b.g.lastRenewAt = now;
					if (b.announce) b.g.announce = false;
					if (b.release) {
						b.g.answer.saved();
						this.#forget(b.g);
						if (b.g.end) this.fanout.publish(b.g.conversationId, b.g.end);
					}
				} else {
					logger().warn(
						{ conversationId: b.g.conversationId },
						'generation lost its lease; stopping it'
					);
					this.#lose(b.g);
					// Watchers here read the saved log instead (the new owner's ending, say).
					this.fanout.notify(b.g.conversationId, b.g.seq);
				}
			}
		} catch (err) {
			// Written or not (a reply lost after the commit): the retry sends the same rows, skipped
			// if present, and the text again from the last saved character.
			for (const b of batch) {
				b.g.unsure = b.rows;
				b.g.unsavedText = b.text + b.g.unsavedText;
			}
			logger().warn({ err }, 'flush failed; will retry');
		}
	}

	/** Closes answers whose owner stopped renewing its lease (it crashed or lost the database). */
	async recoverExpired() {
		try {
			const recovered = await store.recoverExpired(this.#db);
			for (const row of recovered) {
				logger().warn(
					{ conversationId: row.id },
					'owner of a generation stopped renewing its lease; answer marked interrupted'
				);
				const local = this.#generationFor(row.id);
				if (local) this.#lose(local);
				this.fanout.notify(row.id, Number(row.last_seq));
			}
		} catch (err) {
			logger().warn({ err }, 'recovery sweep failed');
		}
	}
}
