/**
 * Read-only reports on the AI usage log for the admin console: spend per day, per model and per
 * user, and the health of the cost measures (cache hits, routing, errors, latency). Days are UTC
 * days, like the budgets'.
 *
 * Every row counts towards cost, `reserved` ones too: an answer still streaming holds its
 * worst-case cost until it ends, exactly as the budget check sees it.
 *
 * @example
 * const days = await reports.dailyCost(db, { days: 30 });
 * const top = await reports.topUsers(db, reports.startOfDay(), 10);
 */
import { and, desc, eq, gte, inArray, isNotNull, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { llmUsage, users } from '#lib/server/db/schema.ts';

const DAY_MS = 86_400_000;

/** Midnight UTC of `now`'s day. */
export function startOfDay(now = new Date()): Date {
	return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Midnight UTC of the first day of `now`'s month. */
export function startOfMonth(now = new Date()): Date {
	return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

const day = sql<string>`to_char(${llmUsage.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
const cost = sql<number>`coalesce(sum(${llmUsage.costUsd}), 0)::float8`;
const calls = sql<number>`count(*)::int`;

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
	const rows = await db
		.select({ day, costUsd: cost, calls })
		.from(llmUsage)
		.where(
			and(
				gte(llmUsage.createdAt, since),
				options.userId ? eq(llmUsage.userId, options.userId) : undefined
			)
		)
		.groupBy(day);
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
	const sum = (column: SQLWrapper) => sql<number>`coalesce(sum(${column}), 0)::float8`;
	const rows = await db
		.select({
			provider: llmUsage.provider,
			model: llmUsage.model,
			calls,
			costUsd: cost,
			savedUsd: sum(llmUsage.savedUsd),
			inputTokens: sum(llmUsage.inputTokens),
			outputTokens: sum(llmUsage.outputTokens),
			cachedInputTokens: sum(llmUsage.cachedInputTokens)
		})
		.from(llmUsage)
		.where(gte(llmUsage.createdAt, since))
		.groupBy(llmUsage.provider, llmUsage.model)
		.orderBy(desc(cost), desc(calls), llmUsage.model);
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

/** The users who cost most since `since` (deleted users' rows have no user and are left out). */
export async function topUsers(db: Db, since: Date, limit = 10): Promise<UserCost[]> {
	const rows = await db
		.select({
			userId: users.id,
			email: users.email,
			displayName: users.displayName,
			calls,
			costUsd: cost
		})
		.from(llmUsage)
		.innerJoin(users, eq(users.id, llmUsage.userId))
		.where(gte(llmUsage.createdAt, since))
		.groupBy(users.id, users.email, users.displayName)
		.orderBy(desc(cost), desc(calls), users.email)
		.limit(limit);
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
		.select({ userId: llmUsage.userId, costUsd: cost })
		.from(llmUsage)
		.where(
			and(
				inArray(llmUsage.userId, userIds),
				isNotNull(llmUsage.userId),
				gte(llmUsage.createdAt, since)
			)
		)
		.groupBy(llmUsage.userId);
	for (const r of rows) if (r.userId) spent.set(r.userId, Number(r.costUsd));
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
	const paid = sql`${llmUsage.source} = 'provider'`;
	const [row] = await db
		.select({
			calls,
			costUsd: cost,
			savedUsd: sql<number>`coalesce(sum(${llmUsage.savedUsd}), 0)::float8`,
			cacheHits: sql<number>`count(*) filter (where ${llmUsage.source} = 'cache')::int`,
			paidCalls: sql<number>`count(*) filter (where ${paid})::int`,
			routed: sql<number>`count(*) filter (where ${paid} and ${llmUsage.routed})::int`,
			finished: sql<number>`count(*) filter (where ${paid} and ${llmUsage.outcome} <> 'reserved')::int`,
			errors: sql<number>`count(*) filter (where ${paid} and ${llmUsage.outcome} = 'error')::int`,
			inFlight: sql<number>`count(*) filter (where ${paid} and ${llmUsage.outcome} = 'reserved')::int`,
			avgLatencyMs: sql<number | null>`(avg(${llmUsage.latencyMs}) filter (where ${paid}))::float8`,
			avgFirstTokenMs: sql<
				number | null
			>`(avg(${llmUsage.firstTokenMs}) filter (where ${paid}))::float8`
		})
		.from(llmUsage)
		.where(gte(llmUsage.createdAt, since));
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
