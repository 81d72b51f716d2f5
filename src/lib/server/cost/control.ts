/**
 * The tutor's cost control, one decision per answer: serve it from the response cache, send it to
 * the main or the cheaper model within the budgets, or (a budget reached) let the offline tutor
 * answer from the course material; then log what it cost.
 *
 * @example
 * const plan = await cost.plan({ userId, question, fresh: true, history, prompt, notes, context });
 * ... stream with plan.provider / plan.model, or replay plan.cached ...
 * await cost.record(plan, { userId, conversationId, messageId, outcome: 'complete', usage, ... });
 */
import { sql } from 'drizzle-orm';
import type { Config } from '../config';
import { prebuilt, type Db } from '../db';
import { llmUsage } from '../db/schema';
import {
	ProviderError,
	type ChatMessage,
	type Provider,
	type StreamEvent,
	type Usage
} from '../ai/types';
import type { NoticeCode } from '#lib/ws/protocol.ts';
import { logger } from '../log';
import { recordCacheLookup, recordLlmCall } from '../metrics';
import type { TutorContext } from '../tutor/prompt';
import {
	cancel,
	reserve,
	settle,
	settleRowsPart,
	SETTLE_COLUMNS,
	settleValues,
	ServerRow,
	type Reservation,
	type ReserveResult
} from './budgets';
import { Interrupt } from '../ai/interrupt';
import * as cache from './cache';
import { costOf, loadPrices, uncachedCostOf, type Price } from './pricing';
import { chooseModel } from './routing';
import { getCostSettings, type CostSettings } from './settings';

export interface TurnPlan {
	userId: string;
	/** provider: a paid (or local) call · cache: replay a cached answer · offline: course search */
	kind: 'provider' | 'cache' | 'offline';
	provider: Provider;
	model: string;
	routed: boolean;
	notice: NoticeCode | null;
	cached: cache.CachedAnswer | null;
	/** Store the answer under this key when it completes. */
	cacheKey: string | null;
	eligible: boolean;
	reservation: Reservation | null;
	price: Price;
	/** The main model's price: what the turn would have cost without the cost measures. */
	basePrice: Price;
	lessonId: string | null;
	question: string;
	/**
	 * The same question is being answered in this process: this answer follows that one as it
	 * streams (see `follow`); the plan is a cache plan until it has to answer on its own.
	 */
	follow?: SharedAnswer;
	/** Prompt size, for estimating a call that ended without a usage report. */
	promptChars: number;
	startedAt: number;
}

export interface TurnOutcome {
	conversationId: string;
	messageId: string;
	/** complete | stopped | error | interrupted */
	outcome: string;
	errorKind?: string | null;
	usage: Usage | null;
	/** The answer's text (stored in the cache when eligible and complete). */
	text: string;
	firstTokenAt: number | null;
}

const estimateTokens = (chars: number) => Math.ceil(chars / 4);

export class CostControl {
	readonly #db: () => Db;
	readonly #background: () => Db;
	readonly #config: Config;
	readonly #provider: Provider;
	readonly #fallback: Provider | undefined;
	readonly #index = new cache.KeyIndex();
	/** Cacheable questions being answered by this process, by cache key. */
	readonly #inFlight = new Map<string, SharedAnswer>();
	readonly #leading = new WeakMap<TurnPlan, SharedAnswer>();
	#timer: ReturnType<typeof setInterval> | undefined;
	/** Turns' usage rows waiting for the next batch (see `#queueRecord`). */
	#records: QueuedRecord[] = [];
	#recordTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(options: {
		db: () => Db;
		config: Config;
		provider: Provider;
		/** Answers when a budget is reached (the offline tutor); without it the call is refused. */
		fallback?: Provider;
		/** For the batch writes (see `Database.background`); `db` without it. */
		background?: () => Db;
	}) {
		this.#db = options.db;
		this.#background = options.background ?? options.db;
		this.#config = options.config;
		this.#provider = options.provider;
		this.#fallback = options.fallback;
	}

	/** This process's side of the server's row of the budgets: shares and settlements (see `ServerRow`). */
	readonly #serverRow = new ServerRow(() => this.#background());

	/** Loads the cache's key index and keeps it fresh; starts settling the server's budget row. */
	async start() {
		const refresh = () =>
			this.#index
				.refresh(this.#db())
				.catch((err) => logger().warn({ err }, 'reading the response cache keys failed'));
		await refresh();
		this.#timer = setInterval(() => void refresh(), cache.KeyIndex.REFRESH_MS);
		this.#timer.unref();
		this.#serverRow.start();
	}

	async stop() {
		clearInterval(this.#timer);
		await this.#writeRecords();
		await this.#serverRow.stop();
	}

	settings(): Promise<CostSettings> {
		return getCostSettings(this.#db(), { base: this.#config.cost });
	}

	async plan(input: {
		userId: string;
		/** The student's words. */
		question: string;
		/** A new question (not a continue or regenerate). */
		fresh: boolean;
		/** The conversation before this question. */
		history: ChatMessage[];
		prompt: { systemBlocks: string[]; messages: ChatMessage[] };
		/** The per-question notes sent with the question. */
		notes: string;
		context: TutorContext | null;
		lessonId?: string | null;
		starterCode?: string | null;
		/** A reservation made ahead with `reservationAhead` (else one is made here). */
		reserved?: Reserved;
		/** The reservation is being made elsewhere and comes later, with `attachReservation`. */
		reservationLater?: boolean;
	}): Promise<TurnPlan> {
		const db = this.#db();
		const [settings, prices] = await Promise.all([this.settings(), loadPrices(db)]);
		const main = this.#provider;
		const promptChars =
			input.prompt.systemBlocks.reduce((n, b) => n + b.length, 0) +
			input.prompt.messages.reduce((n, m) => n + m.content.length, 0);
		const base = {
			userId: input.userId,
			provider: main,
			routed: false,
			notice: null,
			cached: null,
			cacheKey: null,
			eligible: false,
			reservation: null,
			basePrice: prices.find(main.model, main.name),
			lessonId: input.lessonId ?? null,
			question: input.question,
			promptChars,
			startedAt: Date.now()
		} satisfies Partial<TurnPlan>;
		if (main.name === 'offline')
			return { ...base, kind: 'offline', model: main.model, price: base.basePrice };

		const { model, routed } = chooseModel({
			question: input.question,
			context: input.context,
			starterCode: input.starterCode,
			settings,
			mainModel: main.model,
			fresh: input.fresh
		});
		const price = prices.find(model, main.name);
		const eligible =
			settings.cacheEnabled &&
			input.fresh &&
			cache.isCacheable({
				historyLength: input.history.length,
				context: input.context,
				starterCode: input.starterCode
			});
		let cacheKey: string | null = null;
		let flight: SharedAnswer | null = null;
		let leader: SharedAnswer | undefined;
		if (eligible) {
			cacheKey = cache.cacheKey({
				model,
				systemBlocks: input.prompt.systemBlocks,
				notes: input.notes,
				history: input.history,
				question: input.question
			});
			const key = cacheKey;
			// Most questions were never asked before: the key index answers those without a lookup.
			const hit = this.#index.mayHave(key) ? await this.#find(key) : null;
			// The same question is being answered right now (a class asks together): this answer
			// follows that one as it streams (see `follow`) rather than paying for it twice.
			leader = this.#inFlight.get(key);
			if (hit || !leader) recordCacheLookup(Boolean(hit), hit?.costUsd ?? 0);
			if (hit) {
				if (input.reserved?.ok) void this.release(input.reserved);
				return {
					...base,
					kind: 'cache',
					model: hit.model,
					routed,
					cached: hit,
					cacheKey: null,
					eligible,
					price
				};
			}
			// This process answers it first: later askers follow this answer.
			if (!leader) flight = this.#lead(key);
		}

		const budgeted = settings.userDailyUsd > 0 || settings.globalDailyUsd > 0;
		let reservation: Reservation | null = null;
		let notice: NoticeCode | null = null;
		if ((budgeted || input.reserved) && !input.reservationLater) {
			// The worst case: the whole prompt at the plain input price and the full output allowance.
			const r =
				input.reserved ??
				(await reserve(
					db,
					{
						userId: input.userId,
						estimateUsd: uncachedCostOf(price, {
							inputTokens: estimateTokens(promptChars),
							outputTokens: this.#config.llm.maxOutputTokens
						}),
						settings,
						alerts: this.#config.alerts
					},
					this.#serverRow
				));
			// r is null when the budgets were off as the reservation was made.
			if (r && !r.ok) {
				flight?.fail();
				const fallback = this.#fallback;
				const code: NoticeCode = r.scope === 'user' ? 'budget_user' : 'budget_global';
				if (!fallback) throw new BudgetReached(code);
				return {
					...base,
					kind: 'offline',
					provider: fallback,
					model: fallback.model,
					notice: code,
					eligible,
					price: prices.find(fallback.model, 'offline')
				};
			} else if (r) {
				reservation = r.reservation;
				if (r.warning) notice = 'budget_warning';
			}
		}
		const plan: TurnPlan = {
			...base,
			kind: 'provider',
			model,
			routed,
			notice,
			cacheKey,
			eligible,
			reservation,
			price
		};
		if (leader)
			// Served like a cached answer (no cost) unless it has to answer on its own.
			Object.assign(plan, {
				kind: 'cache',
				follow: leader,
				cached: {
					key: cacheKey!,
					answer: '',
					provider: main.name,
					model,
					inputTokens: 0,
					outputTokens: 0,
					costUsd: 0
				}
			} satisfies Partial<TurnPlan>);
		if (flight) this.#leading.set(plan, flight);
		return plan;
	}

	/**
	 * The events of the answer a `follow` plan follows, as they come. Returns null when that answer
	 * completed (this plan is then a cache hit with its saving), else the text shown so far (it
	 * stopped or failed: the plan is now a provider plan, to answer on its own from there).
	 */
	async *follow(plan: TurnPlan, signal: AbortSignal): AsyncGenerator<StreamEvent, string | null> {
		const shared = plan.follow!;
		const stopped = new Interrupt();
		const onAbort = () => stopped.fire(new ProviderError('aborted', 'stopped'));
		if (signal.aborted) onAbort();
		else signal.addEventListener('abort', onAbort, { once: true });
		try {
			for (let i = 0; ;) {
				while (i < shared.text.length) yield { type: 'text', text: shared.text[i++]! };
				if (shared.state === 'complete') {
					const usage = shared.usage ?? { inputTokens: 0, outputTokens: 0 };
					recordCacheLookup(true, 0);
					if (plan.reservation) void this.#giveBack(plan.reservation);
					Object.assign(plan.cached!, {
						answer: shared.text.join(''),
						inputTokens: usage.inputTokens,
						outputTokens: usage.outputTokens,
						costUsd: uncachedCostOf(plan.price, usage)
					});
					plan.reservation = null;
					return null;
				}
				if (shared.state === 'failed') break;
				await stopped.wait(shared.changed());
			}
			recordCacheLookup(false, 0);
			Object.assign(plan, { kind: 'provider', cached: null, follow: undefined });
			// Nothing shown yet: this answer can lead the next askers (one that continues a prefix cannot).
			if (!shared.text.length && plan.cacheKey && !this.#inFlight.has(plan.cacheKey))
				this.#leading.set(plan, this.#lead(plan.cacheKey));
			return shared.text.join('');
		} finally {
			signal.removeEventListener('abort', onAbort);
		}
	}

	/** The leader's stream, shared with the answers that follow it (unchanged for other plans). */
	share(plan: TurnPlan, events: AsyncIterable<StreamEvent>): AsyncIterable<StreamEvent> {
		const shared = this.#leading.get(plan);
		return shared ? new Sharing(events, shared) : events;
	}

	#find(key: string) {
		return cache.lookup(this.#db(), key).then(
			(found) => {
				if (!found) this.#index.forget(key);
				return found;
			},
			(err) => {
				logger().warn({ err }, 'response cache lookup failed');
				return null;
			}
		);
	}

	/** Marks this process as answering `key`. */
	#lead(key: string): SharedAnswer {
		const flight: SharedAnswer = new SharedAnswer(() => {
			if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
		});
		this.#inFlight.set(key, flight);
		return flight;
	}

	/**
	 * A new question's reservation against the budgets, made beside the send statement (before its
	 * prompt is known): the main model's price for the largest prompt the tutor sends (the history
	 * budget plus 6000 tokens of instructions, course context, notes and question) and the full
	 * output allowance. Null when no budget applies; `unreserve` it if the question is refused.
	 */
	async reserveQuestion(userId: string): Promise<Reserved> {
		const main = this.#provider;
		if (main.name === 'offline') return null;
		const db = this.#db();
		const [settings, prices] = await Promise.all([this.settings(), loadPrices(db)]);
		if (settings.userDailyUsd <= 0 && settings.globalDailyUsd <= 0) return null;
		const estimateUsd = uncachedCostOf(prices.find(main.model, main.name), {
			inputTokens: this.#config.llm.historyTokenBudget + 6000,
			outputTokens: this.#config.llm.maxOutputTokens
		});
		const input = { userId, estimateUsd, settings, alerts: this.#config.alerts };
		return reserve(db, input, this.#serverRow);
	}

	/**
	 * Gives a plan made with `reservationLater` the reservation made for it, as `plan` would have
	 * used it: a cached answer gives it back, any other plan holds it (and warns when the student
	 * is near their limit). A refused reservation is not for this: the plan is then discarded.
	 */
	attachReservation(plan: TurnPlan, reserved: Reserved) {
		if (!reserved?.ok) return;
		if (plan.kind === 'cache' && !plan.follow) {
			void this.release(reserved);
			return;
		}
		plan.reservation = reserved.reservation;
		if (reserved.warning) plan.notice = 'budget_warning';
	}

	/** Takes back the reservation of a question that was refused after it was made. */
	async unreserve(reserved: Reserved): Promise<void> {
		if (reserved?.ok) await cancel(this.#db(), reserved.reservation, this.#serverRow);
	}

	/** Gives back a reservation that was not used (the question was refused or cached). */
	async release(reserved: Reserved): Promise<void> {
		if (reserved?.ok) await this.#giveBack(reserved.reservation);
	}

	#giveBack(reservation: Reservation): Promise<void> {
		return settle(this.#db(), reservation, 0).then(
			() => this.#serverRow.add(reservation, 0),
			(err) => logger().warn({ err }, 'releasing a budget reservation failed')
		);
	}

	/** Logs the turn's usage and cost, settles its reservation and fills the cache. Never throws. */
	async record(plan: TurnPlan, out: TurnOutcome): Promise<void> {
		try {
			await this.#record(plan, out);
		} finally {
			// The answer is in the cache now (or will not be): questions waiting for it go on.
			this.#leading.get(plan)?.retire();
		}
	}

	/**
	 * Queues a turn's usage row (see `recordStatement`) for the next batch and resolves once it is
	 * written (`written` then runs) or could not be. Answers end hundreds of times a second under
	 * load: one statement per batch instead of one per answer spares the database and this process
	 * a round trip each.
	 */
	#queueRecord(row: RecordRow, written: () => void): Promise<void> {
		const { promise, resolve } = Promise.withResolvers<void>();
		this.#records.push({ row, written, done: resolve });
		this.#recordTimer ??= setTimeout(() => void this.#writeRecords(), RECORD_BATCH_MS);
		return promise;
	}

	async #writeRecords() {
		clearTimeout(this.#recordTimer);
		this.#recordTimer = undefined;
		const batch = this.#records.splice(0);
		for (let i = 0; i < batch.length; i += RECORD_BATCH_ROWS)
			await this.#write(batch.slice(i, i + RECORD_BATCH_ROWS));
	}

	/** Writes a batch; if that fails, each row alone, so one bad row costs only itself. */
	async #write(batch: QueuedRecord[]): Promise<void> {
		try {
			await prebuilt(this.#background(), 'cost.record', recordStatement, {
				rows: JSON.stringify(batch.map((r, n) => ({ ...r.row, n })))
			});
		} catch (err) {
			if (batch.length > 1) {
				for (const r of batch) await this.#write([r]);
				return;
			}
			logger().warn(
				{ err, conversationId: batch[0]?.row.conversation_id },
				'recording AI usage failed'
			);
			for (const r of batch) r.done();
			return;
		}
		for (const r of batch) {
			try {
				r.written();
			} catch (err) {
				logger().warn({ err }, 'counting AI usage failed');
			}
			r.done();
		}
	}

	async #record(plan: TurnPlan, out: TurnOutcome): Promise<void> {
		const db = this.#db();
		try {
			const now = Date.now();
			const latencyMs = now - plan.startedAt;
			const firstTokenMs = out.firstTokenAt ? out.firstTokenAt - plan.startedAt : null;
			const row = {
				userId: plan.userId,
				conversationId: out.conversationId,
				messageId: out.messageId,
				purpose: 'tutor',
				routed: plan.routed,
				cacheEligible: plan.eligible,
				outcome: out.outcome,
				errorKind: out.errorKind ?? null,
				latencyMs,
				firstTokenMs
			};
			if (plan.kind === 'cache' && plan.cached) {
				const c = plan.cached;
				// Stopped while following another answer: the reservation is not needed.
				if (plan.reservation) await this.#giveBack(plan.reservation);
				await db.insert(llmUsage).values({
					...row,
					provider: c.provider,
					model: c.model,
					source: 'cache',
					costUsd: 0,
					savedUsd: c.costUsd,
					savedTokens: c.inputTokens + c.outputTokens
				});
				return;
			}
			// Without a usage report (a stopped or failed call), estimate what the provider billed.
			const usage: Usage = out.usage ?? {
				inputTokens: out.text || out.outcome === 'complete' ? estimateTokens(plan.promptChars) : 0,
				outputTokens: estimateTokens(out.text.length)
			};
			const costUsd = costOf(plan.price, usage);
			const savedUsd = Math.max(0, uncachedCostOf(plan.basePrice, usage) - costUsd);
			// One statement: settle the reservation, keep the answer for the cache, log the call.
			const store =
				plan.cacheKey && out.outcome === 'complete' && out.text.trim()
					? {
							key: plan.cacheKey,
							ttlSeconds: (await this.settings()).cacheTtlSeconds
						}
					: null;
			await this.#queueRecord(
				{
					...settleValues(plan.reservation, costUsd),
					store: store !== null,
					key: store?.key ?? '',
					lesson_id: plan.lessonId,
					question: cache.normalizeQuestion(plan.question).slice(0, 500),
					answer: out.text,
					ttl_seconds: store?.ttlSeconds ?? 0,
					uncached_usd: uncachedCostOf(plan.price, usage),
					user_id: row.userId,
					conversation_id: row.conversationId,
					message_id: row.messageId,
					routed: row.routed,
					cache_eligible: row.cacheEligible,
					outcome: row.outcome,
					error_kind: row.errorKind,
					latency_ms: row.latencyMs,
					first_token_ms: row.firstTokenMs,
					provider: plan.provider.name,
					model: plan.model,
					source: plan.kind === 'offline' ? 'offline' : 'provider',
					input_tokens: usage.inputTokens,
					output_tokens: usage.outputTokens,
					cached_input_tokens: usage.cachedInputTokens ?? 0,
					cache_write_tokens: usage.cacheWriteTokens ?? 0,
					cost_usd: costUsd,
					saved_usd: plan.kind === 'offline' ? 0 : savedUsd
				},
				() => {
					if (plan.reservation) this.#serverRow.add(plan.reservation, costUsd);
					if (store) this.#index.add(store.key, Date.now() + store.ttlSeconds * 1000);
					recordLlmCall({
						provider: plan.provider.name,
						model: plan.model,
						outcome: out.outcome,
						latencyMs,
						firstTokenMs,
						inputTokens: usage.inputTokens,
						outputTokens: usage.outputTokens,
						cachedInputTokens: usage.cachedInputTokens ?? 0,
						costUsd
					});
				}
			);
		} catch (err) {
			logger().warn({ err, conversationId: out.conversationId }, 'recording AI usage failed');
		}
	}
}

/**
 * How long an answer followed by others may stream nothing before they stop following it and
 * answer on their own (a stalled stream, or a generation that ended without saying so).
 */
export const COALESCE_IDLE_MS = 30_000;

/**
 * The leader's events as they pass (see `CostControl.share`): each piece of text and the end go
 * to `shared`; an error, an early return or an end without `done` fails it. An iterator rather
 * than an async generator: one promise per event instead of a generator step's several.
 */
class Sharing implements AsyncIterableIterator<StreamEvent> {
	readonly #inner: AsyncIterator<StreamEvent>;
	readonly #shared: SharedAnswer;
	constructor(events: AsyncIterable<StreamEvent>, shared: SharedAnswer) {
		this.#inner = events[Symbol.asyncIterator]();
		this.#shared = shared;
	}
	[Symbol.asyncIterator]() {
		return this;
	}
	next(): Promise<IteratorResult<StreamEvent>> {
		return this.#inner.next().then(this.#seen, this.#failed);
	}
	async return(): Promise<IteratorResult<StreamEvent>> {
		this.#shared.fail();
		await this.#inner.return?.();
		return { done: true, value: undefined };
	}
	readonly #seen = (step: IteratorResult<StreamEvent>) => {
		if (step.done) this.#shared.fail();
		else if (step.value.type === 'text') this.#shared.push(step.value.text);
		else if (step.value.type === 'done') this.#shared.complete(step.value.usage ?? null);
		return step;
	};
	readonly #failed = (error: unknown): never => {
		this.#shared.fail();
		throw error;
	};
}

/**
 * A cacheable answer being generated, shared with the same question asked meanwhile: its text as
 * it streams and how it ended. It fails when its generation ends without completing or streams
 * nothing for COALESCE_IDLE_MS; it is retired once recorded (a complete one is in the cache then).
 */
export class SharedAnswer {
	readonly text: string[] = [];
	usage: Usage | null = null;
	state: 'streaming' | 'complete' | 'failed' = 'streaming';
	#waiting: (() => void)[] = [];
	#timer: ReturnType<typeof setTimeout> | undefined;
	#lastPieceAt = 0;
	readonly #onEnd: () => void;
	constructor(onEnd: () => void) {
		this.#onEnd = onEnd;
		this.#arm();
	}
	push(text: string) {
		if (this.state !== 'streaming') return;
		this.text.push(text);
		this.#arm();
		this.#wake();
	}
	complete(usage: Usage | null) {
		if (this.state !== 'streaming') return;
		this.usage = usage;
		this.#end('complete');
	}
	fail() {
		if (this.state === 'streaming') this.#end('failed');
	}
	/** Resolves at the next piece of text or at the end. */
	changed(): Promise<void> {
		return new Promise((resolve) => this.#waiting.push(resolve));
	}
	/** Done with it: later askers no longer find it (they find the cache entry instead). */
	retire() {
		this.fail();
		clearTimeout(this.#timer);
		this.#onEnd();
	}
	#end(state: 'complete' | 'failed') {
		this.state = state;
		clearTimeout(this.#timer);
		// A complete answer stays findable until it is recorded (and so in the cache).
		if (state === 'failed') this.#onEnd();
		else {
			this.#timer = setTimeout(() => this.retire(), COALESCE_IDLE_MS);
			this.#timer.unref?.();
		}
		this.#wake();
	}
	/**
	 * Fails the answer if no text comes for `COALESCE_IDLE_MS`. One timer, not touched per piece:
	 * when it fires it fails the answer, or sleeps until the last piece is that old.
	 */
	#arm() {
		this.#lastPieceAt = Date.now();
		if (!this.#timer) this.#sleep(COALESCE_IDLE_MS);
	}
	#sleep(ms: number) {
		this.#timer = setTimeout(this.#checkIdle, ms);
		this.#timer.unref?.();
	}
	readonly #checkIdle = () => {
		const idle = Date.now() - this.#lastPieceAt;
		if (idle >= COALESCE_IDLE_MS) this.fail();
		else this.#sleep(COALESCE_IDLE_MS - idle);
	};
	#wake() {
		if (!this.#waiting.length) return;
		const waiting = this.#waiting;
		this.#waiting = [];
		for (const resolve of waiting) resolve();
	}
}

/** A reservation made for a question: null when no budget applies. */
export type Reserved = ReserveResult | null;

/** A budget was reached and there is no offline tutor to fall back on. */
export class BudgetReached extends Error {
	constructor(readonly notice: NoticeCode) {
		super(notice);
	}
}

/** How long a turn's usage row waits for others to be written with it, at most. */
const RECORD_BATCH_MS = 100;
/** Rows per usage statement, at most. */
const RECORD_BATCH_ROWS = 500;

/** A turn's usage row, as `recordStatement` reads it. */
type RecordRow = ReturnType<typeof settleValues> & {
	store: boolean;
	key: string;
	conversation_id: string;
	[column: string]: unknown;
};

interface QueuedRecord {
	row: RecordRow;
	/** Runs once the row is written. */
	written: () => void;
	done: () => void;
}

/**
 * The end of many turns in one statement (see `prebuilt`), from the JSON array `rows`: settles
 * the reservations on the students' rows (where `settle`), keeps complete answers for the cache
 * (where `store`) and logs the calls.
 */
function recordStatement() {
	const v = sql`v`;
	return sql`
	with v as (
		select * from jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as v(
			n int, ${SETTLE_COLUMNS},
			store boolean, key text, lesson_id uuid, question text, answer text, ttl_seconds float8,
			uncached_usd float8, user_id uuid, conversation_id uuid, message_id uuid, routed boolean,
			cache_eligible boolean, outcome text, error_kind text, latency_ms int, first_token_ms int,
			provider text, model text, source text, input_tokens int, output_tokens int,
			cached_input_tokens int, cache_write_tokens int, cost_usd float8, saved_usd float8)
	),
	settled as (${settleRowsPart(v)}
		returning 1
	),
	cached as (${cache.storePart(v)}
		returning 1
	)
	insert into llm_usage
		(user_id, conversation_id, message_id, purpose, routed, cache_eligible, outcome, error_kind,
		latency_ms, first_token_ms, provider, model, source, input_tokens, output_tokens,
		cached_input_tokens, cache_write_tokens, cost_usd, saved_usd)
	select user_id, conversation_id, message_id, 'tutor', routed, cache_eligible, outcome, error_kind,
		latency_ms, first_token_ms, provider, model, source, input_tokens, output_tokens,
		cached_input_tokens, cache_write_tokens, cost_usd, saved_usd
	from v order by n`;
}
