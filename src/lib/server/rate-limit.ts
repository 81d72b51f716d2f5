/**
 * Fixed-window rate limits with the counters in the database, so every replica shares them.
 *
 * @example
 * const r = await rateLimit.hit(db, `login:ip:${ip}`, { limit: 10, windowSeconds: 900 });
 * if (!r.allowed) return fail(429, { message: `Try again in ${r.retryAfterSeconds}s` });
 */
import { sql, lt, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from './db';
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

/**
 * The one statement that counts a hit: an upsert that starts a new window when the old one ended,
 * returning `count` and `retry_after` (seconds until the window resets). The send statement
 * embeds it, so a question is counted in the same round trip.
 */
export function countHit(key: SQL, windowSeconds: SQL) {
	const window = sql`make_interval(secs => ${windowSeconds}::float8)`;
	return sql`
		insert into rate_limits (key, window_start, count)
		values (${key}::text, now(), 1)
		on conflict (key) do update set
			count = case when rate_limits.window_start <= now() - ${window} then 1 else rate_limits.count + 1 end,
			window_start = case when rate_limits.window_start <= now() - ${window} then now() else rate_limits.window_start end
		returning count, extract(epoch from (window_start + ${window} - now())) as retry_after`;
}

/** Counts one hit on `key` and says whether it is within the rule. One atomic upsert. */
export async function hit(db: Db, key: string, rule: RateLimitRule): Promise<RateLimitResult> {
	const [row] = rowsOf<{ count: number; retry_after: string | number }>(
		await db.execute(countHit(sql`${key}`, sql`${rule.windowSeconds}`))
	);
	if (!row) throw new Error('rate limit upsert returned no row');
	const retryAfterSeconds = Math.max(1, Math.ceil(Number(row.retry_after)));
	const count = Number(row.count);
	return {
		allowed: count <= rule.limit,
		limit: rule.limit,
		remaining: Math.max(0, rule.limit - count),
		retryAfterSeconds,
		resetAt: new Date(Date.now() + Number(row.retry_after) * 1000)
	};
}

/** Deletes windows that ended; called from time to time so the table stays small. */
export async function sweep(db: Db, olderThanSeconds = 86_400) {
	await db
		.delete(rateLimits)
		.where(lt(rateLimits.windowStart, sql`now() - make_interval(secs => ${olderThanSeconds})`));
}
