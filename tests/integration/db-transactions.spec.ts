/**
 * Transactions stay on their own connection under load. postgres.js 3.4.9 can write a
 * transaction's BEGIN without reserving the connection (porsager/postgres#823, #1189): when BEGIN
 * fills a connection's pipeline, or when the socket's buffer is full, the reservation is skipped.
 * The transaction then fails with UNSAFE_TRANSACTION, and worse, the server-side transaction stays
 * open on a connection back in the pool, so unrelated queries run inside it. Seen in the stream
 * benchmark: a subscribe failed with "Something went wrong" when 500 sockets subscribed at once.
 * `patches/postgres+3.4.9.patch` fixes the driver; these tests fail without it.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/db.ts';

describe.runIf(TEST_DATABASE_URL || process.env.CI)('transactions under load (PostgreSQL)', () => {
	const name = `tx-test-${Math.random().toString(36).slice(2, 10)}`;
	let sql: postgres.Sql;
	let admin: postgres.Sql;

	beforeAll(() => {
		// Two connections with two places each in their pipelines. (`max_pipeline` is an option
		// of postgres.js that its type definitions leave out.)
		const options = {
			max: 2,
			max_pipeline: 2,
			onnotice: () => {},
			connection: { application_name: name }
		};
		sql = postgres(TEST_DATABASE_URL!, options);
		admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
	});
	afterAll(async () => {
		await sql?.end({ timeout: 5 });
		await admin?.end({ timeout: 5 });
	});

	/** Connections of the pool that sit inside a transaction nobody is running. */
	const strandedTransactions = async () => {
		await new Promise((resolve) => setTimeout(resolve, 100));
		const [row] = await admin`
			select count(*)::int as n from pg_stat_activity
			where application_name = ${name} and state like 'idle in transaction%'`;
		return row!.n as number;
	};

	it("a BEGIN that fills a connection's pipeline still reserves the connection", async () => {
		// Both connections open and idle, then, in this order (`execute` sends at once): a long
		// query on each, a short query pipelined behind the first, and two transactions. The
		// second BEGIN lands on the first connection as its pipeline's last place.
		await Promise.all([sql`select 1`, sql`select 1`]);
		const settled = await Promise.allSettled([
			sql`select pg_sleep(0.2)`.execute(),
			sql`select pg_sleep(0.2)`.execute(),
			sql`select 1`.execute(),
			sql.begin((tx) => tx`select 1 as n`),
			sql.begin((tx) => tx`select 2 as n`)
		]);
		const failures = settled.flatMap((s) =>
			s.status === 'rejected' ? [String((s.reason as Error).message)] : []
		);
		expect(failures).toEqual([]);
		expect(await strandedTransactions()).toBe(0);
	});

	it('leaves no connection inside a transaction after a burst of work', async () => {
		await Promise.allSettled(
			Array.from({ length: 60 }, (_, i) =>
				i % 3 === 0 ? sql.begin((tx) => tx`select ${i}::int`) : sql`select ${i}::int`
			)
		);
		expect(await strandedTransactions()).toBe(0);
	});
});
