/**
 * Read-only reports on the AI usage log for the admin console: spend per day, per model and per
 * user, and the health of the cost measures (cache hits, routing, errors, latency). Days are UTC
 * days, like the budgets', and every `since` is a midnight UTC: the reports read the per-day
 * rollups a trigger keeps beside the log (usage_daily, usage_user_daily), never the log itself.
 *
 * @example
 * const days = await reports.dailyCost(db, { days: 30 });
 * const top = await reports.topUsers(db, reports.startOfDay(), 10);
 */
import { and, desc, eq, gte, inArray, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { usageDaily, usageUserDaily, users } from '#lib/server/db/schema.ts';

const DAY_MS = 86_400_000;

/** Midnight UTC of `now`'s day. */
export function startOfDay(now = new Date()): Date {
	return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Midnight UTC of the first day of `now`'s month. */
export function startOfMonth(now = new Date()): Date {
	return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** The UTC day of `since`, as the rollups key it. */
const dayOf = (since: Date) => since.toISOString().slice(0, 10);
const sum = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)::float8`;

export interface DayCost {
	/** YYYY-MM-DD (UTC) */
	day: string;
	costUsd: number;
	calls: number;
}

/**
 * Cost and number of calls for each of the last `days` UTC days (today included, oldest first);
 * days without usage are there with zeros. `userId` narrows it to one user.
 */
export async function dailyCost(
	db: Db,
	options: { days: number; userId?: string; now?: Date }
): Promise<DayCost[]> {
	const today = startOfDay(options.now);
	const since = new Date(today.getTime() - (options.days - 1) * DAY_MS);
	const table = options.userId ? usageUserDaily : usageDaily;
	const rows = await db
		.select({
			day: sql<string>`${table.day}::text`,
			costUsd: sum(table.costUsd),
			calls: sum(table.calls)
		})
		.from(table)
		.where(
			and(
				gte(table.day, dayOf(since)),
				options.userId ? eq(usageUserDaily.userId, options.userId) : undefined
			)
		)
		.groupBy(table.day);
	const found = new Map(rows.map((r) => [r.day, r]));
	return Array.from({ length: options.days }, (_, i) => {
		const key = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
		const row = found.get(key);
		return { day: key, costUsd: Number(row?.costUsd ?? 0), calls: Number(row?.calls ?? 0) };
	});
}

export interface ModelUsage {
	provider: string;
	model: string;
	calls: number;
	costUsd: number;
	savedUsd: number;
	inputTokens: number;
	outputTokens: number;
	cachedInputTokens: number;
}

/** Calls, tokens, cost and savings per provider and model since `since`, costliest first. */
export async function byModel(db: Db, since: Date): Promise<ModelUsage[]> {
	const cost = sum(usageDaily.costUsd);
	const calls = sum(usageDaily.calls);
	const rows = await db
		.select({
			provider: usageDaily.provider,
			model: usageDaily.model,
			calls,
			costUsd: cost,
			savedUsd: sum(usageDaily.savedUsd),
			inputTokens: sum(usageDaily.inputTokens),
			outputTokens: sum(usageDaily.outputTokens),
			cachedInputTokens: sum(usageDaily.cachedInputTokens)
		})
		.from(usageDaily)
		.where(gte(usageDaily.day, dayOf(since)))
		.groupBy(usageDaily.provider, usageDaily.model)
		.orderBy(desc(cost), desc(calls), usageDaily.model);
	return rows.map((r) => ({
		...r,
		calls: Number(r.calls),
		costUsd: Number(r.costUsd),
		savedUsd: Number(r.savedUsd),
		inputTokens: Number(r.inputTokens),
		outputTokens: Number(r.outputTokens),
		cachedInputTokens: Number(r.cachedInputTokens)
	}));
}

export interface UserCost {
	userId: string;
	email: string;
	displayName: string;
	calls: number;
	costUsd: number;
}

/** The users who cost most since `since` (a deleted account's rows go with it). */
export async function topUsers(db: Db, since: Date, limit = 10): Promise<UserCost[]> {
	const cost = sum(usageUserDaily.costUsd);
	const calls = sum(usageUserDaily.calls);
	// The top few by id first, then their names: joining every row to `users` cost more than summing.
	const top = db
		.select({ userId: usageUserDaily.userId, calls: calls.as('calls'), costUsd: cost.as('cost') })
		.from(usageUserDaily)
		.where(gte(usageUserDaily.day, dayOf(since)))
		.groupBy(usageUserDaily.userId)
		.orderBy(desc(cost), desc(calls), usageUserDaily.userId)
		.limit(limit)
		.as('top');
	const rows = await db
		.select({
			userId: users.id,
			email: users.email,
			displayName: users.displayName,
			calls: top.calls,
			costUsd: top.costUsd
		})
		.from(top)
		.innerJoin(users, eq(users.id, top.userId))
		.orderBy(desc(top.costUsd), desc(top.calls), users.email);
	return rows.map((r) => ({ ...r, calls: Number(r.calls), costUsd: Number(r.costUsd) }));
}

/** Each listed user's spend since `since` (UTC midnight today unless told); users without any are 0. */
export async function spendByUser(
	db: Db,
	userIds: string[],
	since = startOfDay()
): Promise<Map<string, number>> {
	const spent = new Map(userIds.map((id) => [id, 0]));
	if (!userIds.length) return spent;
	const rows = await db
		.select({ userId: usageUserDaily.userId, costUsd: sum(usageUserDaily.costUsd) })
		.from(usageUserDaily)
		.where(and(inArray(usageUserDaily.userId, userIds), gte(usageUserDaily.day, dayOf(since))))
		.groupBy(usageUserDaily.userId);
	for (const r of rows) spent.set(r.userId, Number(r.costUsd));
	return spent;
}

export interface Summary {
	/** Every row: paid calls, cache hits and offline answers. */
	calls: number;
	costUsd: number;
	savedUsd: number;
	/** Answers served from the response cache. */
	cacheHits: number;
	/** Cache hits among the answers that could have come from a paid call or the cache. */
	cacheHitRate: number | null;
	/** Paid calls the routing rule sent to the cheaper model, among all paid calls. */
	routedShare: number | null;
	/** Paid calls that ended in an error, among the finished ones. */
	errorRate: number | null;
	errors: number;
	/** Mean whole-call and first-token latency of paid calls, in milliseconds. */
	avgLatencyMs: number | null;
	avgFirstTokenMs: number | null;
	/** Paid calls still streaming (or left `reserved` by a crash). */
	inFlight: number;
}

/** The headline figures since `since`. */
export async function summary(db: Db, since: Date): Promise<Summary> {
	const u = usageDaily;
	const paid = sql`${u.source} = 'provider'`;
	const paidSum = (column: SQLWrapper, when = sql`true`) =>
		sql<number>`coalesce(sum(${column}) filter (where ${paid} and ${when}), 0)::float8`;
	const mean = (total: SQLWrapper, count: SQLWrapper) =>
		sql<number | null>`(${paidSum(total)} / nullif(${paidSum(count)}, 0))::float8`;
	const [row] = await db
		.select({
			calls: sum(u.calls),
			costUsd: sum(u.costUsd),
			savedUsd: sum(u.savedUsd),
			cacheHits: sql<number>`coalesce(sum(${u.calls}) filter (where ${u.source} = 'cache'), 0)::int`,
			paidCalls: paidSum(u.calls),
			routed: paidSum(u.calls, sql`${u.routed}`),
			finished: paidSum(u.calls, sql`${u.outcome} <> 'reserved'`),
			errors: paidSum(u.calls, sql`${u.outcome} = 'error'`),
			inFlight: paidSum(u.calls, sql`${u.outcome} = 'reserved'`),
			avgLatencyMs: mean(u.latencyMsSum, u.latencyCount),
			avgFirstTokenMs: mean(u.firstTokenMsSum, u.firstTokenCount)
		})
		.from(u)
		.where(gte(u.day, dayOf(since)));
	const n = (x: unknown) => Number(x ?? 0);
	const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
	const cacheHits = n(row?.cacheHits);
	const paidCalls = n(row?.paidCalls);
	const errors = n(row?.errors);
	const round = (x: unknown) => (x === null || x === undefined ? null : Math.round(Number(x)));
	return {
		calls: n(row?.calls),
		costUsd: n(row?.costUsd),
		savedUsd: n(row?.savedUsd),
		cacheHits,
		cacheHitRate: ratio(cacheHits, cacheHits + paidCalls),
		routedShare: ratio(n(row?.routed), paidCalls),
		errorRate: ratio(errors, n(row?.finished)),
		errors,
		avgLatencyMs: round(row?.avgLatencyMs),
		avgFirstTokenMs: round(row?.avgFirstTokenMs),
		inFlight: n(row?.inFlight)
	};
}
