/**
 * Daily budgets per student and for the whole server, in dollars per UTC day (`spend_daily`).
 * `reserve` adds a call's worst-case cost to both rows with upserts that refuse to cross a limit;
 * the row locks make that exact across replicas. `settle` then replaces it with the real cost.
 *
 * @example
 * const r = await reserve(db, { userId, estimateUsd: 0.02, settings, alerts });
 * if (r.ok) ... await settle(db, r.reservation, actualUsd);
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import { rowsOf, type Db } from '#lib/server/db/index.ts';
import { spendDaily, users } from '#lib/server/db/schema.ts';
import { logger } from '#lib/server/log.ts';
import { listAlerts, raiseAlert } from './alerts';
import type { CostSettings } from './settings';

export { listAlerts };

export const GLOBAL = 'global';

/** Today's UTC date as YYYY-MM-DD. */
export function utcDay(at = new Date()): string {
	return at.toISOString().slice(0, 10);
}

export interface Reservation {
	userId: string;
	day: string;
	estimateUsd: number;
}

export type ReserveResult =
	| {
			ok: true;
			reservation: Reservation;
			/** The student's spending after this call, when it passed the warning level. */
			warning: { spentUsd: number; limitUsd: number } | null;
	  }
	| { ok: false; scope: 'user' | 'global'; spentUsd: number; limitUsd: number };

export interface ReserveInput {
	userId: string;
	estimateUsd: number;
	settings: CostSettings;
	alerts: Config['alerts'];
}

/** Adds `amount` (and a call) to a subject's day if the total stays within `limit` (0: none). */
function upsert(subject: string, day: string, amount: number, limit: number, when = sql`true`) {
	return sql`
		insert into spend_daily (subject, day, usd, calls)
		select ${subject}, ${day}::date, ${amount}::float8, 1 where ${when}
		on conflict (subject, day) do update
			set usd = spend_daily.usd + excluded.usd, calls = spend_daily.calls + 1
		where ${limit}::float8 <= 0 or spend_daily.usd + excluded.usd <= ${limit}::float8
		returning usd`;
}

async function spent(db: Db, subject: string, day: string) {
	const [row] = await db
		.select({ usd: spendDaily.usd })
		.from(spendDaily)
		.where(and(eq(spendDaily.subject, subject), eq(spendDaily.day, day)));
	return row?.usd ?? 0;
}

/** Dollars committed today by one student, or by everyone. */
export function spentToday(db: Db, userId?: string): Promise<number> {
	return spent(db, userId ?? GLOBAL, utcDay());
}

/**
 * Reserves a call's worst-case cost on the student's row, then the server's, or refuses it.
 * Crossing a warning level or a limit raises the operator alert (once per day and threshold).
 */
export async function reserve(db: Db, input: ReserveInput): Promise<ReserveResult> {
	const { userId, estimateUsd, settings } = input;
	const { userDailyUsd: userLimit, globalDailyUsd: globalLimit } = settings;
	const day = utcDay();
	const overUser = userLimit > 0 && estimateUsd > userLimit;
	const overGlobal = globalLimit > 0 && estimateUsd > globalLimit;
	let row: { user: number | null; global: number | null } | undefined;
	if (!overUser && !overGlobal)
		[row] = rowsOf<{ user: number | null; global: number | null }>(
			await db.execute(sql`
				with u as (${upsert(userId, day, estimateUsd, userLimit)}),
				g as (${upsert(GLOBAL, day, estimateUsd, globalLimit, sql`exists (select 1 from u)`)})
				select (select usd from u) as user, (select usd from g) as global`)
		);
	const refused = overUser
		? 'user'
		: overGlobal
			? 'global'
			: row?.user == null
				? 'user'
				: row.global == null
					? 'global'
					: null;
	if (refused) {
		// The server refused after the student's row counted the call: take that back.
		if (refused === 'global' && row?.user != null)
			await takeBack(db, { userId, day, estimateUsd }, [userId]);
		const subject = refused === 'user' ? userId : GLOBAL;
		const limitUsd = refused === 'user' ? userLimit : globalLimit;
		const spentUsd = await spent(db, subject, day);
		alert(db, input, { subject, day, threshold: 'limit', spentUsd, limitUsd });
		return { ok: false, scope: refused, spentUsd, limitUsd };
	}
	const warnAt = settings.warnPercent / 100;
	const user = Number(row!.user);
	const global = Number(row!.global);
	let warning: { spentUsd: number; limitUsd: number } | null = null;
	if (userLimit > 0 && user >= warnAt * userLimit) {
		warning = { spentUsd: user, limitUsd: userLimit };
		alert(db, input, { subject: userId, day, threshold: 'warning', ...warning });
	}
	if (globalLimit > 0 && global >= warnAt * globalLimit)
		alert(db, input, {
			subject: GLOBAL,
			day,
			threshold: 'warning',
			spentUsd: global,
			limitUsd: globalLimit
		});
	return { ok: true, reservation: { userId, day, estimateUsd }, warning };
}

function alert(
	db: Db,
	input: ReserveInput,
	a: {
		subject: string;
		day: string;
		threshold: 'warning' | 'limit';
		spentUsd: number;
		limitUsd: number;
	}
) {
	void (async () => {
		const own = a.subject !== GLOBAL;
		const [user] = own
			? await db.select({ email: users.email }).from(users).where(eq(users.id, input.userId))
			: [];
		await raiseAlert(db, input.alerts, {
			...a,
			userId: own ? input.userId : null,
			label: user?.email
		});
	})().catch((err) => logger().warn({ err }, 'budget alert failed'));
}

/**
 * The statement parts that replace a reservation's estimate with `actualUsd` on both rows: the
 * student's first, in the order `reserve` locks them, so the two never deadlock.
 */
export function settleParts(reservation: Reservation, actualUsd: number): SQL {
	const { userId, day, estimateUsd } = reservation;
	const delta = actualUsd - estimateUsd;
	return sql`
		settle_u as (
			update spend_daily set usd = greatest(0, usd + ${delta}::float8)
			where subject = ${userId} and day = ${day}::date returning 1),
		settle_g as (
			update spend_daily set usd = greatest(0, usd + ${delta}::float8)
			where subject = ${GLOBAL} and day = ${day}::date and (select count(*) from settle_u) >= 0
			returning 1)`;
}

/** Replaces a reservation's estimate with what the call really cost (0: it was not used). */
export async function settle(db: Db, reservation: Reservation, actualUsd: number) {
	await db.execute(sql`with ${settleParts(reservation, actualUsd)} select 1`);
}

/** Takes back a reservation whose question never became a call (it was refused after it was made). */
export function cancel(db: Db, reservation: Reservation) {
	return takeBack(db, reservation, [reservation.userId, GLOBAL]);
}

async function takeBack(db: Db, r: Reservation, subjects: string[]) {
	for (const subject of subjects)
		await db.execute(sql`
			update spend_daily set usd = greatest(0, usd - ${r.estimateUsd}::float8), calls = greatest(0, calls - 1)
			where subject = ${subject} and day = ${r.day}::date`);
}
