/**
 * Daily budgets: per student and for the whole server, in dollars, per UTC day.
 *
 * Before a paid call, `reserve` adds the call's worst-case cost (its prompt at the plain input
 * price plus the full output allowance) to the student's and the server's row of `spend_daily`,
 * each with a conditional upsert that refuses to cross the limit. The row lock makes this exact
 * across replicas: of two calls racing for the last cents, one is refused. When the call ends,
 * `settle` replaces the estimate with the real cost. A call cut off by a crash keeps its estimate
 * counted, which errs on the safe side.
 *
 * @example
 * const r = await reserve(db, { userId, estimateUsd: 0.02, settings, alerts });
 * if (!r.ok) useOfflineTutor(r.scope);
 * ... await settle(db, r.reservation, actualUsd);
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../config';
import { rowsOf, type Db } from '../db';
import { spendDaily, users } from '../db/schema';
import { logger } from '../log';
import { listAlerts, raiseAlert } from './alerts';
import type { CostSettings } from './settings';

export { listAlerts };

export const GLOBAL = 'global';

/** Today's UTC date as YYYY-MM-DD. */
export function utcDay(at = new Date()): string {
	return at.toISOString().slice(0, 10);
}

export interface Reservation {
	day: string;
	subjects: string[];
	estimateUsd: number;
}

export type ReserveResult =
	| {
			ok: true;
			reservation: Reservation;
			/** The student's share of their limit after this call, when they passed the warning level. */
			warning: { spentUsd: number; limitUsd: number } | null;
	  }
	| { ok: false; scope: 'user' | 'global'; spentUsd: number; limitUsd: number };

/**
 * Adds `amount` to a subject's day if the total stays within `limit` (0: no limit) and `when`
 * holds; returns the new total (no row when refused). The row lock orders concurrent calls.
 */
function upsert(subject: string, day: string, amount: number, limit: number, when?: SQL) {
	return sql`
		insert into spend_daily (subject, day, usd, calls)
		select ${subject}, ${day}::date, ${amount}::float8, 1 ${when ? sql`where ${when}` : sql``}
		on conflict (subject, day) do update set usd = spend_daily.usd + excluded.usd, calls = spend_daily.calls + 1
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
export async function spentToday(db: Db, userId?: string): Promise<number> {
	return spent(db, userId ?? GLOBAL, utcDay());
}

async function emailOf(db: Db, userId: string) {
	const [row] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId));
	return row?.email;
}

interface ReserveInput {
	userId: string;
	estimateUsd: number;
	settings: CostSettings;
	alerts: Config['alerts'];
}

/** What a reservation's statement returns: the new totals, null where it was refused. */
export interface ReserveRow {
	user: number | string | null;
	global: number | string | null;
}

/**
 * The reservation as part of a larger statement: the CTEs `budget_u` (the student's row) and
 * `budget_g` (the server's, only if the student's was admitted) to put in its `with` list, only
 * when `when` holds, and the columns to select (`budget_user`, `budget_global`); hand those to
 * `reserveOutcome`. Null when the estimate alone exceeds a limit (then `reserve` refuses it
 * without a write).
 */
export function reserveParts(input: ReserveInput, when?: SQL) {
	const { userId, estimateUsd, settings } = input;
	const userLimit = settings.userDailyUsd;
	const globalLimit = settings.globalDailyUsd;
	if (userLimit > 0 && estimateUsd > userLimit) return null;
	if (globalLimit > 0 && estimateUsd > globalLimit) return null;
	const day = utcDay();
	return {
		day,
		ctes: sql`budget_u as (${upsert(userId, day, estimateUsd, userLimit, when)}),
			budget_g as (${upsert(GLOBAL, day, estimateUsd, globalLimit, sql`exists (select 1 from budget_u)`)})`,
		columns: sql`(select usd from budget_u) as budget_user, (select usd from budget_g) as budget_global`
	};
}

/**
 * Reserves a call's worst-case cost against the student's and the server's budgets, or refuses
 * it. Crossing a warning level or a limit raises the operator alert (once per day and threshold).
 */
export async function reserve(db: Db, input: ReserveInput): Promise<ReserveResult> {
	const parts = reserveParts(input);
	if (!parts) return reserveOutcome(db, input, utcDay(), null);
	const [row] = rowsOf<{ budget_user: ReserveRow['user']; budget_global: ReserveRow['global'] }>(
		await db.execute(sql`with ${parts.ctes} select ${parts.columns}`)
	);
	return reserveOutcome(db, input, parts.day, {
		user: row?.budget_user ?? null,
		global: row?.budget_global ?? null
	});
}

/**
 * What a reservation statement's row means (null: the estimate alone exceeds a limit). Refused
 * by the server's budget after the student's was counted: takes that back. Raises the alerts.
 */
export async function reserveOutcome(
	db: Db,
	input: ReserveInput,
	day: string,
	row: ReserveRow | null
): Promise<ReserveResult> {
	const { userId, estimateUsd, settings } = input;
	const userLimit = settings.userDailyUsd;
	const globalLimit = settings.globalDailyUsd;
	const raise = (
		subject: string,
		threshold: 'warning' | 'limit',
		spentUsd: number,
		limitUsd: number
	) =>
		void (async () =>
			raiseAlert(db, input.alerts, {
				subject,
				userId: subject === GLOBAL ? null : userId,
				label: subject === GLOBAL ? undefined : await emailOf(db, userId),
				threshold,
				spentUsd,
				limitUsd,
				day
			}))().catch((err) => logger().warn({ err }, 'budget alert failed'));

	let refused: 'user' | 'global' | null = null;
	let totals = { user: 0, global: 0 };
	if (!row) refused = userLimit > 0 && estimateUsd > userLimit ? 'user' : 'global';
	else if (row.user == null) refused = 'user';
	else if (row.global == null) {
		refused = 'global';
		await db.execute(sql`
			update spend_daily set usd = greatest(0, usd - ${estimateUsd}::float8), calls = calls - 1
			where subject = ${userId} and day = ${day}::date`);
	} else totals = { user: Number(row.user), global: Number(row.global) };
	if (refused) {
		const subject = refused === 'user' ? userId : GLOBAL;
		const limitUsd = refused === 'user' ? userLimit : globalLimit;
		const spentUsd = await spent(db, subject, day);
		raise(subject, 'limit', spentUsd, limitUsd);
		return { ok: false, scope: refused, spentUsd, limitUsd };
	}
	const warnAt = settings.warnPercent / 100;
	let warning: { spentUsd: number; limitUsd: number } | null = null;
	if (userLimit > 0 && totals.user >= warnAt * userLimit) {
		warning = { spentUsd: totals.user, limitUsd: userLimit };
		raise(userId, 'warning', totals.user, userLimit);
	}
	if (globalLimit > 0 && totals.global >= warnAt * globalLimit)
		raise(GLOBAL, 'warning', totals.global, globalLimit);
	return {
		ok: true,
		reservation: { day, subjects: [userId, GLOBAL], estimateUsd },
		warning
	};
}

/**
 * The statement replacing a reservation's estimate with the real cost on the student's row (null:
 * nothing to do). The server's row gets the difference through `ServerRowSettlements`.
 */
export function settleQuery(reservation: Reservation, actualUsd: number): SQL | null {
	const delta = actualUsd - reservation.estimateUsd;
	const subjects = reservation.subjects.filter((s) => s !== GLOBAL);
	if (delta === 0 || !subjects.length) return null;
	return sql`
		update spend_daily set usd = greatest(0, usd + ${delta}::float8)
		where day = ${reservation.day}::date and subject in (${sql.join(
			subjects.map((s) => sql`${s}`),
			sql`, `
		)})`;
}

/** Replaces a reservation's estimate with what the call really cost, on the student's row. */
export async function settle(db: Db, reservation: Reservation, actualUsd: number) {
	const query = settleQuery(reservation, actualUsd);
	if (query) await db.execute(query);
}

/**
 * Settlements of the server's row, summed in the process and written once a second. Every
 * question reserves on that one row and every answer settles on it, from every replica: under
 * load it is the row they all queue for. A settlement only gives back part of a reservation (the
 * estimate is the worst case), so until it is written the server's total errs high, on the safe
 * side, as it does for a call cut off by a crash. Reservations stay exact: they still take the
 * row lock, so of two calls racing for the last cents one is refused.
 *
 * @example
 * const server = new ServerRowSettlements(() => db); server.start();
 * server.add(reservation, actualUsd); ... await server.stop();
 */
export class ServerRowSettlements {
	readonly #db: () => Db;
	readonly #everyMs: number;
	/** Dollars to add to the server's row, per day (negative: given back). */
	readonly #pending = new Map<string, number>();
	#timer: ReturnType<typeof setInterval> | undefined;

	constructor(db: () => Db, everyMs = 1000) {
		this.#db = db;
		this.#everyMs = everyMs;
	}

	add(reservation: Reservation, actualUsd: number) {
		const delta = actualUsd - reservation.estimateUsd;
		if (delta === 0 || !reservation.subjects.includes(GLOBAL)) return;
		this.#pending.set(reservation.day, (this.#pending.get(reservation.day) ?? 0) + delta);
	}

	start() {
		this.#timer = setInterval(() => void this.flush(), this.#everyMs);
		this.#timer.unref();
	}

	async stop() {
		clearInterval(this.#timer);
		await this.flush();
	}

	async flush() {
		const pending = [...this.#pending];
		this.#pending.clear();
		for (const [day, delta] of pending) {
			try {
				await this.#db().execute(sql`
					update spend_daily set usd = greatest(0, usd + ${delta}::float8)
					where subject = ${GLOBAL} and day = ${day}::date`);
			} catch (err) {
				this.#pending.set(day, (this.#pending.get(day) ?? 0) + delta);
				logger().warn({ err }, 'settling the server budget failed; will retry');
			}
		}
	}
}
