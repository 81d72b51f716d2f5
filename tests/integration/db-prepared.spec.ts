/**
 * Drizzle's queries run as prepared statements on PostgreSQL (see `preparedByDefault`): parsed
 * once per connection, one round trip per run, on the pool, in transactions and in savepoints.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf, schema, type Database } from '../../src/lib/server/db/index.ts';
import { createPostgresDatabase, TEST_DATABASE_URL } from '../helpers/db.ts';

const POOL = 2;

describe.runIf(TEST_DATABASE_URL || process.env.CI)('prepared statements on PostgreSQL', () => {
	let database: Database;
	let drop: () => Promise<void>;

	beforeAll(async () => {
		const created = await createPostgresDatabase();
		drop = created.drop;
		// Two connections (one serves the migration lock while the other migrates).
		database = await openDatabase({ url: created.url, poolMax: POOL });
	});
	afterAll(async () => {
		await database?.close();
		await drop?.();
	});

	/**
	 * How many prepared statements hold `marker` in their text, per connection of the pool: one
	 * transaction per connection, all open at once, each reading its session's statements.
	 */
	async function preparedWith(marker: string) {
		let arrived = 0;
		let release!: () => void;
		const allOpen = new Promise<void>((r) => (release = r));
		const lists = await Promise.all(
			Array.from({ length: POOL }, () =>
				database.db.transaction(async (tx) => {
					const rows = rowsOf<{ statement: string }>(
						await tx.execute(sql`select statement from pg_prepared_statements`)
					);
					if (++arrived === POOL) release();
					await allOpen;
					return rows;
				})
			)
		);
		return lists.map((rows) => rows.filter((r) => r.statement.includes(marker)).length);
	}

	/** Prepared on some connection, and never twice on one. */
	function expectPreparedOnce(perConnection: number[]) {
		expect(perConnection.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
		for (const n of perConnection) expect(n).toBeLessThanOrEqual(1);
	}

	it('prepares a query builder statement once and reuses it', async () => {
		const { db } = database;
		for (let i = 0; i < 3; i++)
			await db
				.select({ id: schema.users.id })
				.from(schema.users)
				.where(sql`${i} >= 0`);
		expectPreparedOnce(await preparedWith('from "users"'));
	});

	it('prepares raw SQL with parameters, with the same results as before', async () => {
		const { db } = database;
		const results = [];
		for (const n of [1, 2, 3])
			results.push(rowsOf(await db.execute(sql`select ${n}::int + 40 as prepared_marker_a`)));
		expect(results.map((r) => r[0])).toEqual([
			{ prepared_marker_a: 41 },
			{ prepared_marker_a: 42 },
			{ prepared_marker_a: 43 }
		]);
		expectPreparedOnce(await preparedWith('prepared_marker_a'));
	});

	it('prepares statements inside transactions and savepoints', async () => {
		const { db } = database;
		await db.transaction(async (tx) => {
			await tx.execute(sql`select ${1}::int as prepared_marker_tx`);
			await tx.transaction(async (inner) => {
				await inner.execute(sql`select ${2}::int as prepared_marker_savepoint`);
			});
		});
		expectPreparedOnce(await preparedWith('prepared_marker_tx'));
		expectPreparedOnce(await preparedWith('prepared_marker_savepoint'));
	});

	it('a failed statement leaves the connection usable and rolls its transaction back', async () => {
		const { db } = database;
		await expect(
			db.transaction(async (tx) => {
				await tx.execute(sql`select ${'x'}::int as prepared_marker_bad`);
			})
		).rejects.toThrow();
		expect(rowsOf(await db.execute(sql`select ${5}::int as n`))).toEqual([{ n: 5 }]);
	});

	it('batch writes on the background connections never hold up the pool’s statements', async () => {
		// Both background connections busy for a second, with more queued behind them.
		const slow = Array.from({ length: 4 }, () =>
			database.background.execute(sql`select pg_sleep(0.5)`)
		);
		await new Promise((r) => setTimeout(r, 50));
		const started = performance.now();
		for (let i = 0; i < 5; i++)
			expect(rowsOf(await database.db.execute(sql`select ${i}::int as n`))).toEqual([{ n: i }]);
		// On one pool, some of these would have queued behind a sleeping connection.
		expect(performance.now() - started).toBeLessThan(400);
		await Promise.all(slow);
	});
});
