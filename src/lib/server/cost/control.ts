/**
 * The tutor's cost control, one decision per answer: serve it from the response cache (or follow
 * the same answer being generated), send it to the main or the cheaper model within the budgets,
 * or, a budget reached, let the offline tutor answer from the course material; then log its cost.
 *
 * @example
 * const reserved = await cost.reserve(userId);
 * const plan = await cost.plan({ userId, question, fresh: true, history, prompt, notes, context }, reserved);
 * ... stream cost.stream(plan, live, signal) ...
 * await cost.record(plan, { conversationId, messageId, outcome: 'complete', usage, text, firstTokenAt });
 */
import { sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import {
	ProviderError,
	type ChatMessage,
	type Provider,
	type StreamEvent,
	type Usage
} from '#lib/server/ai/types.ts';
import type { NoticeCode } from '#lib/ws/protocol.ts';
import { logger } from '#lib/server/log.ts';
import { recordCacheLookup, recordLlmCall } from '#lib/server/metrics.ts';
import type { TutorContext } from '#lib/server/tutor/prompt.ts';
import {
	cancel,
	reserve,
	settle,
	settleParts,
	type Reservation,
	type ReserveResult
} from './budgets';
import * as cache from './cache';
import { costOf, loadPrices, uncachedCostOf, type Price } from './pricing';
import { chooseModel } from './routing';
import { getCostSettings, type CostSettings } from './settings';
import { KeyIndex } from './key-index';
import { SharedAnswers, tap, type SharedAnswer } from './sharing';

export interface TurnPlan {
	userId: string;
	/** provider: a paid (or local) call · cache: a cached or followed answer · offline: course search */
	kind: 'provider' | 'cache' | 'offline';
	provider: Provider;
	model: string;
	routed: boolean;
	notice: NoticeCode | null;
	cached: cache.CachedAnswer | null;
	/** The answer's cache key, when it may be cached. */
	cacheKey: string | null;
	eligible: boolean;
	reservation: Reservation | null;
	price: Price;
	/** The main model's price: what the turn would have cost without the cost measures. */
	basePrice: Price;
	lessonId: string | null;
	question: string;
	/** The same answer being generated here, followed rather than paid for again. */
	follow: SharedAnswer | null;
	/** This answer is followed by the same question asked meanwhile. */
	lead: SharedAnswer | null;
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

/** A question's reservation: null when no budget applies (see `CostControl.reserve`). */
export type Reserved = ReserveResult | null;

/** A budget was reached and there is no offline tutor to fall back on. */
export class BudgetReached extends Error {
	constructor(readonly notice: NoticeCode) {
		super(notice);
	}
}

export interface PlanInput {
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
}

/** The largest prompt the tutor sends beyond the history: instructions, course, notes, question. */
const PROMPT_OVERHEAD_TOKENS = 6000;
const estimateTokens = (chars: number) => Math.ceil(chars / 4);

export class CostControl {
	readonly #shared = new SharedAnswers();
	readonly #keys = new KeyIndex();
	readonly #db: () => Db;
	readonly #background: () => Db;

	constructor(
		private readonly options: {
			db: () => Db;
			config: Config;
			provider: Provider;
			/** Answers when a budget is reached (the offline tutor); without it the call is refused. */
			fallback?: Provider;
			/** The pool for writes off the way to a first token (see `Database.background`). */
			background?: () => Db;
		}
	) {
		this.#db = options.db;
		this.#background = options.background ?? options.db;
	}

	start() {
		return this.#keys.start(this.#db);
	}

	stop() {
		this.#keys.stop();
	}

	settings(): Promise<CostSettings> {
		return getCostSettings(this.#db(), { base: this.options.config.cost });
	}

	/**
	 * Reserves a question's worst case against the budgets before its prompt is known: the main
	 * model's price for the largest prompt and the full output allowance. Null when no budget
	 * applies; `unreserve` it if the question is refused, or hand it to `plan` / `attach`.
	 */
	async reserve(userId: string): Promise<Reserved> {
		const main = this.options.provider;
		if (main.name === 'offline') return null;
		const db = this.#db();
		const [settings, prices] = await Promise.all([this.settings(), loadPrices(db)]);
		if (settings.userDailyUsd <= 0 && settings.globalDailyUsd <= 0) return null;
		const estimateUsd = uncachedCostOf(prices.find(main.model, main.name), {
			inputTokens: this.options.config.llm.historyTokenBudget + PROMPT_OVERHEAD_TOKENS,
			outputTokens: this.options.config.llm.maxOutputTokens
		});
		return reserve(db, { userId, estimateUsd, settings, alerts: this.options.config.alerts });
	}

	/** Takes back the reservation of a question that was refused after it was made. */
	async unreserve(reserved: Reserved): Promise<void> {
		if (reserved?.ok) await cancel(this.#db(), reserved.reservation);
	}

	/**
	 * The turn's plan. `reserved` is the question's reservation, or 'later' when it is still being
	 * made (an early start: `attach` it then). A refused reservation makes an offline plan.
	 */
	async plan(input: PlanInput, reserved: Reserved | 'later'): Promise<TurnPlan> {
		const db = this.#db();
		const [settings, prices] = await Promise.all([this.settings(), loadPrices(db)]);
		const main = this.options.provider;
		const promptChars =
			input.prompt.systemBlocks.reduce((n, b) => n + b.length, 0) +
			input.prompt.messages.reduce((n, m) => n + m.content.length, 0);
		const basePrice = prices.find(main.model, main.name);
		const plan: TurnPlan = {
			userId: input.userId,
			kind: 'provider',
			provider: main,
			model: main.model,
			routed: false,
			notice: null,
			cached: null,
			cacheKey: null,
			eligible: false,
			reservation: null,
			price: basePrice,
			basePrice,
			lessonId: input.lessonId ?? null,
			question: input.question,
			follow: null,
			lead: null,
			promptChars,
			startedAt: Date.now()
		};
		if (main.name === 'offline') return { ...plan, kind: 'offline' };
		if (reserved && reserved !== 'later' && !reserved.ok) {
			const notice: NoticeCode = reserved.scope === 'user' ? 'budget_user' : 'budget_global';
			const fallback = this.options.fallback;
			if (!fallback) throw new BudgetReached(notice);
			const price = prices.find(fallback.model, 'offline');
			return { ...plan, kind: 'offline', provider: fallback, model: fallback.model, notice, price };
		}
		const { model, routed } = chooseModel({ ...input, settings, mainModel: main.model });
		Object.assign(plan, { model, routed, price: prices.find(model, main.name) });
		plan.eligible =
			settings.cacheEnabled &&
			input.fresh &&
			cache.isCacheable({ historyLength: input.history.length, ...input });
		if (plan.eligible) {
			const key = cache.cacheKey({ model, systemBlocks: input.prompt.systemBlocks, ...input });
			plan.cacheKey = key;
			// Most questions were never asked before: the key index answers those without a lookup.
			const hit = this.#keys.mayHave(key) ? await this.#lookup(key) : null;
			const leader = hit ? undefined : this.#shared.find(key);
			if (!leader) recordCacheLookup(Boolean(hit), hit?.costUsd ?? 0);
			if (hit) {
				if (reserved !== 'later') void this.#release(reserved);
				return { ...plan, kind: 'cache', model: hit.model, cached: hit, cacheKey: null };
			}
			// Followed like a cached answer (no cost) unless it has to answer on its own.
			if (leader) Object.assign(plan, { kind: 'cache', follow: leader });
			else plan.lead = this.#shared.lead(key);
		}
		if (reserved !== 'later') this.attach(plan, reserved);
		return plan;
	}

	/** Gives a plan its question's reservation (see `plan`); a cached answer gives it back. */
	attach(plan: TurnPlan, reserved: Reserved) {
		if (!reserved?.ok) return;
		if (plan.kind === 'cache' && !plan.follow) return void this.#release(reserved);
		plan.reservation = reserved.reservation;
		if (reserved.warning) plan.notice = 'budget_warning';
	}

	/**
	 * The turn's events: a cached answer replayed, a followed answer as it comes, or `live()`
	 * (the provider call; `continuing` is the text already shown when a followed answer failed).
	 */
	stream(
		plan: TurnPlan,
		live: (continuing: string) => AsyncIterable<StreamEvent>,
		signal: AbortSignal
	): AsyncIterable<StreamEvent> {
		if (plan.cached) return cache.replay(plan.cached.answer, signal);
		if (plan.follow) return this.#following(plan, live, signal);
		return plan.lead ? tap(live(''), plan.lead) : live('');
	}

	async *#following(
		plan: TurnPlan,
		live: (continuing: string) => AsyncIterable<StreamEvent>,
		signal: AbortSignal
	): AsyncGenerator<StreamEvent> {
		const shared = plan.follow!;
		const stopped = new Promise<void>((resolve) =>
			signal.addEventListener('abort', () => resolve(), { once: true })
		);
		for (let i = 0; ;) {
			while (i < shared.text.length) yield { type: 'text', text: shared.text[i++]! };
			if (shared.state !== 'streaming') break;
			await Promise.race([shared.changed(), stopped]);
			if (signal.aborted) throw new ProviderError('aborted', 'stopped');
		}
		const shown = shared.text.join('');
		if (shared.state === 'complete') {
			const usage = shared.usage ?? { inputTokens: 0, outputTokens: 0 };
			recordCacheLookup(true, 0);
			if (plan.reservation)
				void this.#release({ ok: true, reservation: plan.reservation, warning: null });
			plan.reservation = null;
			plan.cached = {
				key: plan.cacheKey!,
				answer: shown,
				provider: plan.provider.name,
				model: plan.model,
				inputTokens: usage.inputTokens,
				outputTokens: usage.outputTokens,
				costUsd: uncachedCostOf(plan.price, usage)
			};
			yield { type: 'done' };
			return;
		}
		// It stopped or failed: answer on our own from what was shown, leading others if nothing was.
		recordCacheLookup(false, 0);
		Object.assign(plan, { kind: 'provider', follow: null });
		if (!shown && !this.#shared.find(plan.cacheKey!)) plan.lead = this.#shared.lead(plan.cacheKey!);
		yield* plan.lead ? tap(live(shown), plan.lead) : live(shown);
	}

	async #lookup(key: string) {
		try {
			const hit = await cache.lookup(this.#db(), key);
			if (!hit) this.#keys.forget(key);
			return hit;
		} catch (err) {
			logger().warn({ err }, 'response cache lookup failed');
			return null;
		}
	}

	async #release(reserved: Reserved) {
		if (!reserved?.ok) return;
		await settle(this.#db(), reserved.reservation, 0).catch((err: unknown) =>
			logger().warn({ err }, 'releasing a budget reservation failed')
		);
	}

	/**
	 * Logs the turn's usage and cost, settles its reservation and keeps a complete answer for the
	 * cache, in one statement. Never throws.
	 */
	async record(plan: TurnPlan, out: TurnOutcome): Promise<void> {
		try {
			await this.#record(plan, out);
		} catch (err) {
			logger().warn({ err, conversationId: out.conversationId }, 'recording AI usage failed');
		} finally {
			plan.lead?.retire(); // in the cache now (or it will not be): followers go on
		}
	}

	async #record(plan: TurnPlan, out: TurnOutcome) {
		const latencyMs = Date.now() - plan.startedAt;
		const firstTokenMs = out.firstTokenAt ? out.firstTokenAt - plan.startedAt : null;
		// A cached answer, or one stopped while following another: nothing was paid.
		const cached = plan.kind === 'cache';
		// Without a usage report (a stopped or failed call), estimate what the provider billed.
		const usage: Usage = cached
			? { inputTokens: 0, outputTokens: 0 }
			: (out.usage ?? {
					inputTokens:
						out.text || out.outcome === 'complete' ? estimateTokens(plan.promptChars) : 0,
					outputTokens: estimateTokens(out.text.length)
				});
		const costUsd = cached ? 0 : costOf(plan.price, usage);
		const uncachedUsd = uncachedCostOf(plan.price, usage);
		const savedUsd = cached
			? (plan.cached?.costUsd ?? 0)
			: plan.kind === 'offline'
				? 0
				: Math.max(0, uncachedCostOf(plan.basePrice, usage) - costUsd);
		const store = plan.cacheKey && !cached && out.outcome === 'complete' && out.text.trim();
		const ttlSeconds = store ? (await this.settings()).cacheTtlSeconds : 0;
		const ctes = [
			plan.reservation ? settleParts(plan.reservation, costUsd) : null,
			store
				? sql`cached as (${cache.storeStatement({
						key: plan.cacheKey!,
						lessonId: plan.lessonId,
						question: cache.normalizeQuestion(plan.question).slice(0, 500),
						answer: out.text,
						provider: plan.provider.name,
						model: plan.model,
						usage,
						costUsd: uncachedUsd,
						ttlSeconds
					})} returning 1)`
				: null
		].filter((c) => c !== null);
		const source = cached ? 'cache' : plan.kind === 'offline' ? 'offline' : 'provider';
		await this.#background().execute(sql`
			${ctes.length ? sql`with ${sql.join(ctes, sql`, `)}` : sql``}
			insert into llm_usage
				(user_id, conversation_id, message_id, purpose, routed, cache_eligible, outcome, error_kind,
				latency_ms, first_token_ms, provider, model, source, input_tokens, output_tokens,
				cached_input_tokens, cache_write_tokens, cost_usd, saved_usd, saved_tokens)
			values (${plan.userId}, ${out.conversationId}, ${out.messageId}, 'tutor', ${plan.routed},
				${plan.eligible}, ${out.outcome}, ${out.errorKind ?? null}, ${latencyMs}, ${firstTokenMs},
				${plan.cached?.provider ?? plan.provider.name}, ${plan.cached?.model ?? plan.model}, ${source},
				${usage.inputTokens}, ${usage.outputTokens}, ${usage.cachedInputTokens ?? 0},
				${usage.cacheWriteTokens ?? 0}, ${costUsd}, ${savedUsd},
				${cached && plan.cached ? plan.cached.inputTokens + plan.cached.outputTokens : 0})`);
		if (store) this.#keys.add(plan.cacheKey!, Date.now() + ttlSeconds * 1000);
		if (!cached)
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
}
