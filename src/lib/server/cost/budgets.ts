/**
 * Daily budgets: per student and for the whole server, in dollars, per UTC day.
 *
 * Before a paid call, `reserve` adds the call's worst-case cost (its prompt at the plain input
 * price plus the full output allowance) to the student's and the server's row of `spend_daily`,
 * each with a conditional upsert that refuses to cross the limit. The row lock makes this exact
 * across replicas: of two calls racing for the last cents, one is refused. When the call ends,
 * `settle` replaces the estimate with the real cost. A call cut off by a crash keeps its estimate
 * counted, which errs on the safe side. The server's row, which every question would otherwise
 * queue for, is mostly reserved on in shares a process takes ahead (see `ServerRow`).
 *
 * @example
 * const r = await reserve(db, { userId, estimateUsd: 0.02, settings, alerts }, serverRow);
 * if (!r.ok) useOfflineTutor(r.scope);
 * ... await settle(db, r.reservation, actualUsd);
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../config';
import { prebuilt, rowsOf, type Db } from '../db';
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
	/** Taken from this process's share of the server's row (that row was not written). */
	drawn?: boolean;
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
function upsert(subject: SQL, day: SQL, amount: SQL, limit: SQL, when?: SQL, calls = sql`1`) {
	return sql`
		insert into spend_daily (subject, day, usd, calls)
		select ${subject}, ${day}::date, ${amount}::float8, ${calls} ${when ? sql`where ${when}` : sql``}
		on conflict (subject, day) do update set usd = spend_daily.usd + excluded.usd, calls = spend_daily.calls + excluded.calls
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
interface ReserveRow {
	user: number | string | null;
	global: number | string | null;
	/** The server's row also gave this process a share (see `ServerRow`). */
	share?: boolean | null;
}

/**
 * The server's row in a reservation: not written (drawn from this process's share), asked for the
 * estimate plus a share (falling back to the estimate alone), or asked for the estimate.
 */
type ReserveShape = 'drawn' | 'share' | 'estimate';

/** The reservation statement's parts (see `reserveParts`). */
interface ReserveParts {
	day: string;
	/** The estimate came out of this process's share of the server's row. */
	drawn: boolean;
	/** Dollars asked of the server's row beyond the estimate, as a share (0: none). */
	extra: number;
	/** Which SQL the reservation takes (see `reserveCtes`, `reserveColumns`). */
	shape: ReserveShape;
	/** The values of its placeholders. */
	values: Record<string, unknown>;
}

/**
 * The reservation statement's parts: its `shape` and the `values` of its placeholders (see
 * `reserveCtes`, `reserveColumns`; `reserve` builds it once per shape with `prebuilt`).
 * Null when the estimate alone exceeds a limit (then `reserve` refuses it without a write).
 *
 * The student's row is always written. The server's row is written only when this process's
 * share of it (`server`) cannot cover the estimate: it then asks for the estimate plus a new
 * share and, if that would cross the limit, for the estimate alone.
 */
export function reserveParts(input: ReserveInput, server?: ServerRow): ReserveParts | null {
	const { userId, estimateUsd, settings } = input;
	const userLimit = settings.userDailyUsd;
	const globalLimit = settings.globalDailyUsd;
	if (userLimit > 0 && estimateUsd > userLimit) return null;
	if (globalLimit > 0 && estimateUsd > globalLimit) return null;
	const day = utcDay();
	const drawn = server?.draw(day, estimateUsd, settings) ?? false;
	if (drawn) server?.refillAhead(day, estimateUsd, globalLimit, settings);
	const extra = drawn ? 0 : (server?.shareSize(estimateUsd, globalLimit) ?? 0);
	return {
		day,
		drawn,
		extra,
		shape: drawn ? 'drawn' : extra ? 'share' : 'estimate',
		values: {
			budgetUser: userId,
			budgetGlobal: GLOBAL,
			budgetDay: day,
			budgetEstimate: estimateUsd,
			budgetWithShare: estimateUsd + extra,
			budgetUserLimit: userLimit,
			budgetGlobalLimit: globalLimit
		}
	};
}

/**
 * `reserveParts`, except that a question finding this process's share empty while another
 * question's request for a new one is under way waits for that request (one statement) and then
 * draws from the new share, instead of writing the server's row itself. Under load that write
 * queued behind every other question's on the row's lock, holding a pooled connection meanwhile.
 */
async function reservePartsSoon(
	input: ReserveInput,
	server?: ServerRow
): Promise<ReserveParts | null> {
	for (let waits = 0; ; waits++) {
		const parts = reserveParts(input, server);
		const asked = server?.asked;
		if (parts?.shape !== 'estimate' || !asked || waits === 3) return parts;
		await asked;
	}
}

/** The reservation's CTEs for `shape`, with placeholders for `ReserveParts.values`. */
function reserveCtes(shape: ReserveShape) {
	const p = (name: string) => sql`${sql.placeholder(name)}`;
	const user = p('budgetUser');
	const global = p('budgetGlobal');
	const day = p('budgetDay');
	const estimate = p('budgetEstimate');
	const userLimit = p('budgetUserLimit');
	const globalLimit = p('budgetGlobalLimit');
	const admitted = sql`exists (select 1 from budget_u)`;
	const ctes = [sql`budget_u as (${upsert(user, day, estimate, userLimit)})`];
	// The server's row: not at all (drawn from the share), for the estimate, or for the estimate
	// and a share, falling back to the estimate alone.
	if (shape === 'share')
		ctes.push(
			sql`budget_s as (${upsert(global, day, p('budgetWithShare'), globalLimit, admitted)})`,
			sql`budget_g as (${upsert(global, day, estimate, globalLimit, sql`${admitted} and not exists (select 1 from budget_s)`)})`
		);
	else if (shape === 'estimate')
		ctes.push(sql`budget_g as (${upsert(global, day, estimate, globalLimit, admitted)})`);
	return sql.join(ctes, sql`, `);
}

/** The reservation's columns for `shape`: `budget_user`, `budget_global`, `budget_share`. */
function reserveColumns(shape: ReserveShape) {
	const global =
		shape === 'share'
			? sql`coalesce((select usd from budget_s), (select usd from budget_g))`
			: shape === 'estimate'
				? sql`(select usd from budget_g)`
				: sql`null::float8`;
	return sql`(select usd from budget_u) as budget_user, ${global} as budget_global,
		${shape === 'share' ? sql`exists (select 1 from budget_s)` : sql`false`} as budget_share`;
}

/**
 * Reserves a call's worst-case cost against the student's and the server's budgets, or refuses
 * it. Crossing a warning level or a limit raises the operator alert (once per day and threshold).
 */
export async function reserve(
	db: Db,
	input: ReserveInput,
	server?: ServerRow
): Promise<ReserveResult> {
	const parts = await reservePartsSoon(input, server);
	if (!parts) return reserveOutcome(db, input, null);
	try {
		const [row] = rowsOf<{
			budget_user: ReserveRow['user'];
			budget_global: ReserveRow['global'];
			budget_share: ReserveRow['share'];
		}>(
			await prebuilt(
				db,
				`budget.reserve:${parts.shape}`,
				() => sql`with ${reserveCtes(parts.shape)} select ${reserveColumns(parts.shape)}`,
				parts.values
			)
		);
		return await reserveOutcome(
			db,
			input,
			{ parts, server },
			{
				user: row?.budget_user ?? null,
				global: row?.budget_global ?? null,
				share: row?.budget_share ?? null
			}
		);
	} catch (err) {
		abandon(parts, input, server);
		throw err;
	}
}

/**
 * For a reservation whose statement did not run or did not reach it (or whose student was
 * refused): puts back what `reserveParts` drew from the process's share, and ends its share
 * request.
 */
export function abandon(parts: ReserveParts | null, input: ReserveInput, server?: ServerRow) {
	if (parts?.drawn) server?.undraw(parts.day, input.estimateUsd);
	if (parts?.extra) server?.noShare();
}

/**
 * What a reservation statement's row means (`made` null: the estimate alone exceeds a limit).
 * Refused by the server's budget after the student's was counted: takes that back. Refused by
 * the student's: puts back what it drew from the process's share. Raises the alerts.
 */
async function reserveOutcome(
	db: Db,
	input: ReserveInput,
	made: { parts: ReserveParts; server?: ServerRow } | null,
	row: ReserveRow | null = null
): Promise<ReserveResult> {
	const day = made?.parts.day ?? utcDay();
	const drawn = made?.parts.drawn ?? false;
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
	if (!made || !row) {
		refused = userLimit > 0 && estimateUsd > userLimit ? 'user' : 'global';
		abandon(made?.parts ?? null, input, made?.server);
	} else if (row.user == null) {
		refused = 'user';
		abandon(made.parts, input, made.server);
	} else if (!drawn && row.global == null) {
		refused = 'global';
		if (made.parts.extra) made.server?.noShare();
		await db.execute(sql`
			update spend_daily set usd = greatest(0, usd - ${estimateUsd}::float8), calls = calls - 1
			where subject = ${userId} and day = ${day}::date`);
	} else {
		const global = drawn ? made.server!.total(day) : Number(row.global);
		totals = { user: Number(row.user), global };
		if (row.share) made.server?.credit(day, made.parts.extra, global, input.settings);
		else if (made.parts.extra) made.server?.noShare();
	}
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
		reservation: { day, subjects: [userId, GLOBAL], estimateUsd, drawn },
		warning
	};
}

/**
 * Takes back a reservation whose question never became a call (it was refused after the
 * reservation was made): its estimate and its call, as if it had not been made.
 */
export async function cancel(db: Db, reservation: Reservation, server?: ServerRow) {
	const { day, estimateUsd } = reservation;
	const [userId] = reservation.subjects.filter((s) => s !== GLOBAL);
	const subjects = reservation.drawn ? [userId] : [userId, GLOBAL];
	if (reservation.drawn) server?.undraw(day, estimateUsd);
	await db.execute(sql`
		update spend_daily set usd = greatest(0, usd - ${estimateUsd}::float8), calls = greatest(0, calls - 1)
		where day = ${day}::date and subject in ${subjects}`);
}

/** The columns of a `settleValues` row, for reading them with `jsonb_to_recordset`. */
export const SETTLE_COLUMNS = sql.raw('settle boolean, delta float8, day date, subjects jsonb');

/**
 * Settles many reservations at once: a part of the turns' usage statement reading the rows of
 * `rows` whose `settle` holds (`delta` dollars on each of `subjects` on `day`), summed per row of
 * `spend_daily` so each is written once.
 */
export function settleRowsPart(rows: SQL) {
	return sql`
		update spend_daily s set usd = greatest(0, s.usd + d.delta)
		from (
			select x.subject, r.day, sum(r.delta) as delta
			from ${rows} r cross join lateral jsonb_array_elements_text(r.subjects) as x(subject)
			where r.settle group by x.subject, r.day
		) d
		where s.subject = d.subject and s.day = d.day`;
}

/**
 * A row of `settleRowsPart`: replaces a reservation's estimate with what the call really cost, on
 * the student's row (the server's row is settled in sums, see `ServerRow`). No reservation:
 * nothing to settle.
 */
export function settleValues(reservation: Reservation | null, actualUsd: number) {
	const delta = reservation ? actualUsd - reservation.estimateUsd : 0;
	const subjects = reservation?.subjects.filter((s) => s !== GLOBAL) ?? [];
	return {
		settle: delta !== 0 && subjects.length > 0,
		delta,
		day: reservation?.day ?? '1970-01-01',
		subjects
	};
}

/** Replaces a reservation's estimate with what the call really cost, on the student's row. */
export async function settle(db: Db, reservation: Reservation, actualUsd: number) {
	const values = settleValues(reservation, actualUsd);
	if (!values.settle) return;
	await prebuilt(
		db,
		'budget.settle',
		() => sql`
			with v as (
				select * from jsonb_to_recordset(${sql.placeholder('rows')}::jsonb)
					as v(${SETTLE_COLUMNS})
			)
			${settleRowsPart(sql`v`)}`,
		{ rows: JSON.stringify([values]) }
	);
}

/**
 * A share of the server's row holds the estimates of as many questions as this process reserved in
 * the last second, and of at least this many (at most `SHARE_OF_LIMIT`).
 */
const SHARE_QUESTIONS = 16;
/** A share is at most this part of the server's daily limit. */
const SHARE_OF_LIMIT = 0.02;

/**
 * This process's side of the server's row of `spend_daily`. Every question reserves on that one
 * row and every answer settles on it, from every replica, and a reservation holds the row's lock
 * until its statement commits: under load it is the row every question queues for. So:
 *
 * - **Shares.** When a reservation has to go to the server's row, it takes its estimate plus a
 *   share: room for as many more questions as the process reserved in the last second (at least
 *   `SHARE_QUESTIONS`, at most `SHARE_OF_LIMIT` of the limit), one request at a time per process.
 *   Questions that find the share empty while a request is under way wait for it (see
 *   `reservePartsSoon`) rather than queue for the row's lock. The next questions draw their
 *   estimates from the share in memory and write only the student's row. A share counts as
 *   spent until it is drawn or given back (after `idleMs` without a draw, at shutdown, when the
 *   day changes, or when the settings are read again: every few seconds and after an admin's
 *   change), so the server's total errs high by at most the replicas' shares, and the limit is
 *   never crossed: a share is taken under the row's lock and only if it fits. Near the limit,
 *   where a share does not fit, a question asks for its own estimate alone, exactly as without
 *   shares: of two calls racing for the last cents one is refused. A crashed process's share
 *   stays counted, as its calls' estimates do.
 * - **Settlements.** What an answer really cost replaces its estimate on the student's row at
 *   once; the server's row gets the difference (and the count of calls drawn from shares) summed
 *   in the process and written every `everyMs`. A settlement only gives back part of an estimate
 *   (the worst case), so until it is written the total errs high, on the safe side.
 *
 * @example
 * const server = new ServerRow(() => db); server.start();
 * const r = await reserve(db, input, server); ... server.add(r.reservation, actualUsd);
 * await server.stop();
 */
export class ServerRow {
	readonly #db: () => Db;
	readonly #everyMs: number;
	readonly #idleMs: number;
	/** Dollars and calls to add to the server's row, per day (negative dollars: given back). */
	readonly #pending = new Map<string, { usd: number; calls: number }>();
	/**
	 * Dollars counted on the server's row for this process's next questions, the row's total
	 * then, and the settings it was taken under (re-read every few seconds and after a change: a
	 * new object voids the share).
	 */
	#share = {
		day: '',
		usd: 0,
		/** What the share held when last topped up (see `refillAhead`). */
		full: 0,
		total: 0,
		drawnAt: 0,
		settings: null as object | null
	};
	/** A reservation is asking for a share: settles when it ends (see `asked`). */
	#asking: PromiseWithResolvers<void> | null = null;
	/** Questions served from or asking for a share, per tenth of a second over the last second. */
	readonly #demand = new Uint32Array(10);
	#demandTick = 0;
	#timer: ReturnType<typeof setInterval> | undefined;

	constructor(db: () => Db, options: { everyMs?: number; idleMs?: number } = {}) {
		this.#db = db;
		this.#everyMs = options.everyMs ?? 1000;
		this.#idleMs = options.idleMs ?? 1000;
	}

	/** Takes a question's estimate from the share; false when the share cannot cover it. */
	draw(day: string, estimateUsd: number, settings: object): boolean {
		const share = this.#share;
		if (share.day !== day || share.settings !== settings) this.#giveBackShare();
		if (share.usd < estimateUsd) return false;
		share.usd -= estimateUsd;
		share.drawnAt = Date.now();
		this.#count(day, 0, 1);
		this.#demanded(share.drawnAt);
		return true;
	}

	/** Counts a question at `now` and returns how many came in the last second. */
	#demanded(now: number) {
		const tick = Math.floor(now / 100);
		const demand = this.#demand;
		// Tenths that passed since the last question held older counts: they start again at 0.
		for (let t = Math.max(this.#demandTick + 1, tick - 9); t <= tick; t++) demand[t % 10] = 0;
		this.#demandTick = Math.max(this.#demandTick, tick);
		demand[tick % 10]! += 1;
		let total = 0;
		for (const n of demand) total += n;
		return total;
	}

	/** Settles when the share request under way ends; null when none is. */
	get asked(): Promise<void> | null {
		return this.#asking?.promise ?? null;
	}

	/** Puts a drawn estimate back (its question was refused or never reached the database). */
	undraw(day: string, estimateUsd: number) {
		if (this.#share.day === day) this.#share.usd += estimateUsd;
		else this.#count(day, -estimateUsd, 0);
		this.#count(day, 0, -1);
	}

	/**
	 * The share to ask for beside a question's estimate: 0 when the limit is too small for one or
	 * another reservation is asking already (one at a time, so that a burst of questions does not
	 * take a share each). Otherwise the caller must end the request with `credit` or `noShare`.
	 */
	shareSize(estimateUsd: number, limitUsd: number): number {
		if (this.#asking) return 0;
		const questions = Math.max(SHARE_QUESTIONS, this.#demanded(Date.now()));
		const size = Math.min(
			estimateUsd * questions,
			limitUsd > 0 ? limitUsd * SHARE_OF_LIMIT : Infinity
		);
		if (size < estimateUsd) return 0;
		this.#asking = Promise.withResolvers();
		return size;
	}

	#asked() {
		this.#asking?.resolve();
		this.#asking = null;
	}

	/** A reservation took a share of `extraUsd` on the server's row, whose total is now `totalUsd`. */
	credit(day: string, extraUsd: number, totalUsd: number, settings: object) {
		const share = this.#share;
		if (share.day !== day || share.settings !== settings) this.#giveBackShare();
		share.day = day;
		share.settings = settings;
		share.usd += extraUsd;
		share.full = share.usd;
		share.total = totalUsd;
		share.drawnAt = Date.now();
		this.#asked();
	}

	/**
	 * Once a question has drawn the share below half of what it held, asks for the next share on
	 * its own (one statement, beside the questions), so that under steady load no question finds
	 * the share empty and has to wait for one.
	 */
	refillAhead(day: string, estimateUsd: number, limitUsd: number, settings: object) {
		const share = this.#share;
		if (this.#asking || share.usd >= share.full / 2) return;
		const extraUsd = this.shareSize(estimateUsd, limitUsd);
		if (!extraUsd) return;
		const statement = upsert(
			sql`${GLOBAL}`,
			sql`${day}`,
			sql`${extraUsd}`,
			sql`${limitUsd}`,
			undefined,
			sql`0`
		);
		this.#db()
			.execute(statement)
			.then(
				(result) => {
					const [row] = rowsOf<{ usd: number | string }>(result);
					if (row) this.credit(day, extraUsd, Number(row.usd), settings);
					else this.noShare(); // it would cross the limit: questions ask for their own
				},
				(err: unknown) => {
					this.noShare();
					logger().warn({ err }, 'taking a share of the server budget failed');
				}
			);
	}

	/** A share request ended without a share (it did not fit, or the question was refused). */
	noShare() {
		this.#asked();
	}

	/** The server's total as of this process's last share (for the warning level). */
	total(day: string) {
		return this.#share.day === day ? this.#share.total : 0;
	}

	/** Counts a settlement: the server's row gets the difference to the estimate. */
	add(reservation: Reservation, actualUsd: number) {
		const delta = actualUsd - reservation.estimateUsd;
		if (delta === 0 || !reservation.subjects.includes(GLOBAL)) return;
		this.#count(reservation.day, delta, 0);
	}

	#count(day: string, usd: number, calls: number) {
		const p = this.#pending.get(day) ?? { usd: 0, calls: 0 };
		p.usd += usd;
		p.calls += calls;
		this.#pending.set(day, p);
	}

	#giveBackShare() {
		const share = this.#share;
		if (share.usd > 0) this.#count(share.day, -share.usd, 0);
		share.usd = 0;
		share.full = 0;
		share.settings = null;
	}

	start() {
		this.#timer = setInterval(() => void this.flush(), this.#everyMs);
		this.#timer.unref();
	}

	async stop() {
		clearInterval(this.#timer);
		await this.asked; // a share being taken is given back below with the rest
		this.#giveBackShare();
		await this.flush();
	}

	async flush() {
		if (this.#share.usd > 0 && Date.now() - this.#share.drawnAt >= this.#idleMs)
			this.#giveBackShare();
		const pending = [...this.#pending];
		this.#pending.clear();
		for (const [day, { usd, calls }] of pending) {
			if (usd === 0 && calls === 0) continue;
			try {
				await this.#db().execute(sql`
					update spend_daily set usd = greatest(0, usd + ${usd}::float8), calls = calls + ${calls}::int
					where subject = ${GLOBAL} and day = ${day}::date`);
			} catch (err) {
				this.#count(day, usd, calls);
				logger().warn({ err }, 'settling the server budget failed; will retry');
			}
		}
	}
}
