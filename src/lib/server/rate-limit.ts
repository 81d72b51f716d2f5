/**
 * Fixed-window rate limits with the counters in the database, so every replica shares them.
 *
 * @example
 * const r = await rateLimit.hit(db, `login:ip:${ip}`, { limit: 10, windowSeconds: 900 });
 * if (!r.allowed) return fail(429, { message: `Try again in ${r.retryAfterSeconds}s` });
 */
import { sql, lt } from 'drizzle-orm';
import type { Db } from './db';
import { rateLimits } from './db/schema';

export interface RateLimitRule {
	limit: number;
	windowSeconds: number;
}
export interface RateLimitResult {
	allowed: boolean;
	limit: number;
	remaining: number;
	retryAfterSeconds: number;
	resetAt: Date;
}

/** Counts one hit on `key` and says whether it is within the rule. One atomic upsert. */
export async function hit(db: Db, key: string, rule: RateLimitRule): Promise<RateLimitResult> {
	const window = sql`make_interval(secs => ${rule.windowSeconds})`;
	const [row] = await db
		.insert(rateLimits)
		.values({ key, windowStart: sql`now()`, count: 1 })
		.onConflictDoUpdate({
			target: rateLimits.key,
			set: {
				count: sql`case when ${rateLimits.windowStart} <= now() - ${window} then 1 else ${rateLimits.count} + 1 end`,
				windowStart: sql`case when ${rateLimits.windowStart} <= now() - ${window} then now() else ${rateLimits.windowStart} end`
			}
		})
		.returning({
			count: rateLimits.count,
			resetAt: sql<string>`${rateLimits.windowStart} + ${window}`,
			now: sql<string>`now()`
		});
	if (!row) throw new Error('rate limit upsert returned no row');
	const resetAt = new Date(row.resetAt);
	const retryAfterSeconds = Math.max(
		1,
		Math.ceil((resetAt.getTime() - new Date(row.now).getTime()) / 1000)
	);
	return {
		allowed: row.count <= rule.limit,
		limit: rule.limit,
		remaining: Math.max(0, rule.limit - row.count),
		retryAfterSeconds,
		resetAt
	};
}

/** Deletes windows that ended; called from time to time so the table stays small. */
export async function sweep(db: Db, olderThanSeconds = 86_400) {
	await db
		.delete(rateLimits)
		.where(lt(rateLimits.windowStart, sql`now() - make_interval(secs => ${olderThanSeconds})`));
}
