/**
 * The tutor's questions: a question, a continue or a regenerate becomes a generation of the durable
 * session (sessions.ts), started with its turn (turn.ts) under cost control, early when this
 * replica knows the conversation (early-start.ts).
 *
 * @example
 * const engine = new TutorEngine({ database, config, provider });
 * await engine.start();
 * await engine.send(user.id, conversationId, clientId, 'Why does my loop never end?');
 */
import type { ErrorCode } from '#lib/ws/protocol.ts';
import type { Config } from '#lib/server/config.ts';
import type { Database, Db } from '#lib/server/db/index.ts';
import type { Provider } from '#lib/server/ai/types.ts';
import { logger } from '#lib/server/log.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import { overallLevel } from '#lib/server/practice/diagnostic.ts';
import { CostControl, type Reserved } from '#lib/server/cost/control.ts';
import * as convos from './conversations';
import type { Socket } from './fanout';
import * as retrieval from './retrieval';
import type { StopReason } from './answer';
import * as store from './store';
import { EarlyStart } from './early-start';
import { Generation } from './generation';
import { NOT_FOUND, Sessions, type Failure } from './sessions';
import { drain, Turns, type Started } from './turn';

export { RECOVERY_GAP } from './store';
export type { Failure };
export type EngineResult = { ok: true } | Failure;

const fail = (code: ErrorCode, message: string, retryAfterSeconds?: number): Failure => ({
	ok: false,
	code,
	message,
	...(retryAfterSeconds ? { retryAfterSeconds } : {})
});
const tooFast = (seconds: number) =>
	fail('rate_limited', `You are sending messages very fast. Try again in ${seconds} s.`, seconds);
const RESTART_REFUSED: Record<store.RestartRefusal, Failure> = {
	not_found: NOT_FOUND,
	busy: fail('busy', 'The tutor is still answering.'),
	no_answer: fail('nothing_to_continue', 'There is no answer to continue or regenerate.'),
	complete: fail('nothing_to_continue', 'The last answer is already complete.')
};

export class TutorEngine {
	readonly sessions: Sessions;
	readonly #database: Database;
	readonly #config: Config;
	readonly #provider: Provider;
	readonly #retrieve: retrieval.Retrieve;
	readonly #cost: CostControl;
	readonly #turns: Turns;
	readonly #early: EarlyStart<Started>;
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
		const db = () => this.#db;
		const background = () => this.#database.background;
		this.#cost = new CostControl({ db, background, ...options });
		const cost = this.#cost;
		this.#turns = new Turns({ db, config: options.config, cost, retrieve: this.#retrieve });
		this.#early = new EarlyStart<Started>({
			enabled: options.config.tutor.earlyStart,
			readLevel: (userId) => overallLevel(this.#db, userId),
			discard: (started) => void drain(started),
			recent: (history) => convos.recentHistory(history, options.config.llm.historyTokenBudget)
		});
		this.sessions = new Sessions({
			database: options.database,
			config: options.config,
			hooks: {
				idle: (conversationId, known) => {
					this.#early.saw(conversationId, known);
					this.#early.prefetchLevel(known.userId);
				},
				ended: (g) => this.#ended(g)
			}
		});
	}

	get #db(): Db {
		return this.#database.db;
	}

	get fanout() {
		return this.sessions.fanout;
	}

	get replicaId() {
		return this.sessions.replicaId;
	}

	get activeGenerations() {
		return this.sessions.size;
	}

	async start() {
		await this.#cost.start();
		await this.sessions.start();
	}

	/** Stops taking work, lets running answers finish for up to `graceMs`, saves the rest as interrupted. */
	close(graceMs: number) {
		this.#closing = true;
		this.#cost.stop();
		return this.sessions.close(graceMs);
	}

	subscribe(socket: Socket, userId: string, conversationId: string, since: number | undefined) {
		return this.sessions.subscribe(socket, userId, conversationId, since);
	}

	flush() {
		return this.sessions.flush();
	}

	recoverExpired() {
		return this.sessions.recoverExpired();
	}

	/**
	 * Adds the student's message and starts the tutor's answer; a resent `clientId` is ignored. The
	 * send statement, the budget reservation and the course search run side by side, and when this
	 * replica knows the conversation the answer starts beside them too (see early-start.ts).
	 */
	async send(
		userId: string,
		conversationId: string,
		clientId: string,
		text: string
	): Promise<EngineResult> {
		if (this.#closing)
			return fail('busy', 'The server is restarting. Your message will be sent again in a moment.');
		await this.sessions.settle(conversationId);
		const searched = this.#retrieve(text, 3).catch((): retrieval.Passage[] => []);
		const early = this.sessions.running(conversationId)
			? null
			: this.#early.begin(userId, conversationId, async (known, level, controller) => {
					const [passages, resolved] = await Promise.all([
						searched,
						this.#turns.resolve(userId, known.context, level)
					]);
					const history = [...known.history, { role: 'user' as const, content: text }];
					const input = { userId, question: text, fresh: true, history, passages, ...resolved };
					return this.#turns.start(input, controller, 'later');
				});
		const reserving = this.#cost.reserve(userId).catch((err: unknown) => {
			logger().warn({ err }, 'reserving against the budgets failed; answering unreserved');
			return null;
		});
		const begun = await store
			.begin(this.#db, {
				userId,
				conversationId,
				clientId,
				text,
				model: this.#provider.model,
				replicaId: this.replicaId,
				leaseSeconds: this.#config.tutor.leaseSeconds,
				rateLimit: this.#config.tutor.rateLimit,
				historyTokens: this.#config.llm.historyTokenBudget
			})
			.catch(async (err: unknown) => {
				if (early) void this.#early.confirm(early, null);
				await this.#unreserve(await reserving);
				throw err;
			});
		const reserved = await reserving;
		const accepted = begun.status === 'ok' && (!reserved || reserved.ok);
		// The history as the prompt takes it: messages with text.
		const prior = begun.status === 'ok' ? begun.history.filter((m) => m.content) : [];
		const kept = early
			? await this.#early.confirm(early, accepted ? { ...begun, history: prior } : null)
			: null;
		if (begun.status !== 'ok') {
			await this.#unreserve(reserved);
			if (begun.status === 'duplicate') return { ok: true };
			if (begun.status === 'not_found') return NOT_FOUND;
			if (begun.status === 'rate_limited') return tooFast(begun.retryAfterSeconds);
			return fail(
				'busy',
				'The tutor is still answering. Stop it or wait for the answer to finish.'
			);
		}
		if (kept) this.#cost.attach(kept.plan, reserved);
		this.#early.levelRead(userId, begun.level);
		const history = [...prior, { role: 'user' as const, content: text }];
		const controller = kept ? early!.controller : new AbortController();
		const started =
			kept ??
			(async () => {
				const [passages, resolved] = await Promise.all([
					searched,
					this.#turns.resolve(userId, begun.context, begun.level)
				]);
				const input = { userId, question: text, fresh: true, history, passages, ...resolved };
				return this.#turns.start(input, controller, reserved).catch(async (err: unknown) => {
					await this.#unreserve(reserved);
					throw err;
				});
			})();
		if (begun.title)
			// Titles are not in the log: watchers here are told now, others on their next load.
			this.sessions.fanout.broadcast(conversationId, {
				v: 1,
				type: 'conversation',
				conversationId,
				title: begun.title
			});
		this.sessions.launch(
			new Generation({
				id: begun.generationId,
				conversationId,
				messageId: begun.answerId,
				seq: begun.seq,
				events: begun.events,
				savedChars: 0,
				announce: true,
				controller,
				next: { userId, history, context: begun.context }
			}),
			Promise.resolve(started)
		);
		return { ok: true };
	}

	/** After an answer: remember the conversation for the next early start, log the cost. */
	async #ended(g: Generation) {
		if (g.next && g.answer.state !== 'lost') {
			const { history } = g.next;
			const after = g.text
				? [...history, { role: 'assistant' as const, content: g.text }]
				: history;
			this.#early.saw(g.conversationId, { ...g.next, history: after });
		}
		if (g.plan)
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

	#unreserve(reserved: Reserved) {
		return this.#cost.unreserve(reserved).catch((err: unknown) => {
			logger().warn({ err }, 'taking back a refused question’s reservation failed');
		});
	}

	/** Picks up a stopped, interrupted or failed answer where it ended. */
	continueAnswer(userId: string, conversationId: string): Promise<EngineResult> {
		return this.#restart(userId, conversationId, 'continue');
	}

	/** Replaces the last answer with a new one (also how "Retry" works after an error). */
	regenerate(userId: string, conversationId: string): Promise<EngineResult> {
		return this.#restart(userId, conversationId, 'regenerate');
	}

	async #restart(
		userId: string,
		conversationId: string,
		mode: 'continue' | 'regenerate'
	): Promise<EngineResult> {
		if (this.#closing) return fail('busy', 'The server is restarting. Try again in a moment.');
		await this.sessions.settle(conversationId);
		this.#early.forget(conversationId); // its history is about to change
		const limited = await rateLimit.hit(
			this.#db,
			`tutor:user:${userId}`,
			this.#config.tutor.rateLimit
		);
		if (!limited.allowed) return tooFast(limited.retryAfterSeconds);
		const r = await store.restart(this.#db, {
			userId,
			conversationId,
			mode,
			model: this.#provider.model,
			replicaId: this.replicaId,
			leaseSeconds: this.#config.tutor.leaseSeconds
		});
		if (!r.ok) return RESTART_REFUSED[r.reason];
		const g = new Generation({
			id: r.generationId,
			conversationId,
			messageId: r.messageId,
			seq: r.seq,
			events: [r.event],
			savedChars: [...r.prefix].length,
			announce: false
		});
		const how = mode === 'continue' ? 'continue' : 'answer';
		this.sessions.launch(
			g,
			this.#turns.restart(conversationId, r.messageId, r.prefix, how, g.controller)
		);
		return { ok: true };
	}

	/** Stops the running answer, wherever it runs. Stopping nothing is not an error. */
	async stop(userId: string, conversationId: string): Promise<EngineResult> {
		const conversation = await convos.get(this.#db, userId, conversationId);
		if (!conversation) return NOT_FOUND;
		const local = this.sessions.running(conversationId);
		if (local) {
			local.controller.abort('stop' satisfies StopReason);
			await local.done.promise;
		} else if (conversation.generationId)
			await store.requestStop(this.#db, conversation.generationId);
		return { ok: true };
	}
}
