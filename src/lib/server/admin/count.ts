/**
 * Counting for the admin lists' pagers: after a year a table holds far more rows than anyone pages
 * through, so counting stops at COUNT_CAP and the page says "more than".
 *
 * @example
 * const { total, capped } = await countUpTo(db, auditLog, where);
 */
import { count, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '#lib/server/db/index.ts';

export const COUNT_CAP = 10_000;

/** The rows of `table` matching `where`, counted up to COUNT_CAP. */
export async function countUpTo(db: Db, table: PgTable, where: SQL | undefined) {
	const limited = db
		.select({ one: sql`1` })
		.from(table)
		.where(where)
		.limit(COUNT_CAP + 1);
	const [row] = await db.select({ n: count() }).from(limited.as('c'));
	const n = row?.n ?? 0;
	return { total: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
}
