/**
 * The response cache: answers to questions that carry nothing personal, served again to anyone
 * who asks the same thing about the same course material.
 *
 * Eligible: a new question (not a continue or regenerate) early in a conversation (at most
 * CACHE_MAX_HISTORY messages before it) whose context holds no personal work: no code other than
 * the exercise's untouched starter code, no error message, no free-text practice answer. The key
 * is a hash of everything the provider would see except who asks: the model, the system blocks
 * (instructions, lesson, exercise, the student's level and whether they solved the exercise, which
 * decides the solution guard), the per-question notes (course passages), the conversation so far
 * (questions normalized, answers exact) and the normalized question. An entry can only be found by
 * someone who sent exactly the same content, so nothing one student wrote reaches another; in a
 * class that is typically the common first question on a lesson and the follow-up clicked after
 * its (cached) answer. A changed lesson or passage can never be answered from an old entry, and
 * rows of a changed lesson are also deleted when it is saved.
 *
 * @example
 * const key = cacheKey({ model, systemBlocks, notes, question });
 * const hit = await lookup(db, key);
 */
import { createHash } from 'node:crypto';
import { and, count, eq, gt, lt, sql, sum } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { responseCache, usageDaily } from '#lib/server/db/schema.ts';
import { ProviderError, type ChatMessage, type StreamEvent } from '#lib/server/ai/types.ts';
import type { TutorContext } from '#lib/server/tutor/prompt.ts';

/** The same question however it is typed: case, spacing, quotes and closing punctuation. */
export function normalizeQuestion(text: string): string {
	return text
		.normalize('NFKC')
		.toLowerCase()
		.replace(/[‘’`]/g, "'")
		.replace(/[“”]/g, '"')
		.replace(/\s+/g, ' ')
		.replace(/^[\s,.!?;:]+|[\s,.!?;:]+$/g, '')
		.trim();
}

const squash = (code: string) => code.replace(/\s+/g, '');

/** The context carries the student's own work: code changed from the starter, or an error. */
export function hasOwnWork(context: TutorContext | null, starterCode?: string | null): boolean {
	if (!context) return false;
	if (context.lastError) return true;
	return Boolean(context.code && squash(context.code) !== squash(starterCode ?? ''));
}

/** Longest conversation (messages before the question) whose next answer may be cached. */
export const CACHE_MAX_HISTORY = 6;

/**
 * Whether an answer to this question may come from, and go to, the cache: early in a
 * conversation, and only when nothing in its context is the student's own work.
 */
export function isCacheable(input: {
	historyLength: number;
	context: TutorContext | null;
	starterCode?: string | null;
}): boolean {
	if (input.historyLength > CACHE_MAX_HISTORY) return false;
	const c = input.context;
	if (!c) return true;
	if (hasOwnWork(c, input.starterCode)) return false;
	// A practice answer is only shared when it is one of the question's options.
	if (c.practice && !(c.practice.options ?? []).includes(c.practice.given)) return false;
	return true;
}

export function cacheKey(input: {
	model: string;
	systemBlocks: string[];
	notes: string;
	/** The conversation before the question. */
	history?: ChatMessage[];
	question: string;
}): string {
	const history = (input.history ?? []).map((m) =>
		m.role === 'user' ? ['u', normalizeQuestion(m.content)] : ['a', m.content]
	);
	return createHash('sha256')
		.update(
			JSON.stringify([
				2,
				input.model,
				input.systemBlocks,
				input.notes,
				history,
				normalizeQuestion(input.question)
			])
		)
		.digest('hex');
}

export interface CachedAnswer {
	key: string;
	answer: string;
	provider: string;
	model: string;
	inputTokens: number;
	outputTokens: number;
	costUsd: number;
}

/** A live entry for `key` (counted as a hit), or null. */
export async function lookup(db: Db, key: string): Promise<CachedAnswer | null> {
	const [row] = await db
		.update(responseCache)
		.set({ hits: sql`${responseCache.hits} + 1`, lastHitAt: sql`now()` })
		.where(and(eq(responseCache.key, key), gt(responseCache.expiresAt, sql`now()`)))
		.returning();
	return row ?? null;
}

/** Keeps a complete answer for `ttlSeconds`: a statement part of the turn's usage statement. */
export function storeStatement(e: {
	key: string;
	lessonId: string | null;
	question: string;
	answer: string;
	provider: string;
	model: string;
	usage: { inputTokens: number; outputTokens: number };
	costUsd: number;
	ttlSeconds: number;
}) {
	return sql`
		insert into response_cache
			(key, lesson_id, question, answer, provider, model, input_tokens, output_tokens, cost_usd, expires_at)
		values (${e.key}, ${e.lessonId}, ${e.question}, ${e.answer}, ${e.provider}, ${e.model},
			${e.usage.inputTokens}, ${e.usage.outputTokens}, ${e.costUsd},
			now() + make_interval(secs => ${e.ttlSeconds}::float8))
		on conflict (key) do update set
			lesson_id = excluded.lesson_id, question = excluded.question, answer = excluded.answer,
			provider = excluded.provider, model = excluded.model, input_tokens = excluded.input_tokens,
			output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
			expires_at = excluded.expires_at, hits = 0, last_hit_at = null, created_at = now()`;
}

/** A cached answer streamed like a live one (in short pieces, so Stop still works). */
export async function* replay(text: string, signal: AbortSignal): AsyncGenerator<StreamEvent> {
	for (const piece of text.match(/[\s\S]{1,48}/g) ?? []) {
		if (signal.aborted) throw new ProviderError('aborted', 'stopped');
		yield { type: 'text', text: piece };
		await new Promise((r) => setImmediate(r));
	}
	yield { type: 'done' };
}

/** Drops the answers about a lesson (called when it or its exercises change). */
export async function invalidateLesson(db: Db, lessonId: string) {
	await db.delete(responseCache).where(eq(responseCache.lessonId, lessonId));
}

/** Drops every answer (after a content pack import, or from the console). */
export async function clear(db: Db) {
	await db.delete(responseCache);
}

/** Drops expired entries. */
export async function sweep(db: Db) {
	await db.delete(responseCache).where(lt(responseCache.expiresAt, sql`now()`));
}

export interface CacheStats {
	entries: number;
	/** Tutor turns in the period, and how many could have come from the cache. */
	turns: number;
	eligibleTurns: number;
	hits: number;
	/** Hits among all turns, and among the eligible ones. */
	hitRate: number;
	eligibleHitRate: number;
	tokensSaved: number;
	dollarsSaved: number;
	/** Dollars the turns actually cost. */
	dollarsSpent: number;
	sinceDays: number;
}

/** Cache figures over the last `days` UTC days (today included), from the usage rollup. */
export async function stats(db: Db, days = 30): Promise<CacheStats> {
	const u = usageDaily;
	const cached = sql`${u.source} = 'cache'`;
	const [usage] = await db
		.select({
			turns: sum(u.calls),
			eligible: sum(u.eligibleCalls),
			hits: sql<number>`sum(${u.calls}) filter (where ${cached})`,
			tokensSaved: sql<number>`coalesce(sum(${u.savedTokens}) filter (where ${cached}), 0)`,
			dollarsSaved: sql<number>`coalesce(sum(${u.savedUsd}) filter (where ${cached}), 0)`,
			spent: sum(u.costUsd)
		})
		.from(u)
		.where(gt(u.day, sql`(now() at time zone 'UTC')::date - ${days}::int`));
	const [entries] = await db
		.select({ n: count() })
		.from(responseCache)
		.where(gt(responseCache.expiresAt, sql`now()`));
	const turns = Number(usage?.turns ?? 0);
	const eligible = Number(usage?.eligible ?? 0);
	const hits = Number(usage?.hits ?? 0);
	return {
		entries: Number(entries?.n ?? 0),
		turns,
		eligibleTurns: eligible,
		hits,
		hitRate: turns ? hits / turns : 0,
		eligibleHitRate: eligible ? hits / eligible : 0,
		tokensSaved: Number(usage?.tokensSaved ?? 0),
		dollarsSaved: Number(usage?.dollarsSaved ?? 0),
		dollarsSpent: Number(usage?.spent ?? 0),
		sinceDays: days
	};
}
