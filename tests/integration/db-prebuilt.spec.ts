/**
 * `prebuilt`: a statement is built once per database (or transaction) and shape, and every run
 * fills in its values, on both drivers.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prebuilt, rowsOf } from '../../src/lib/server/db/index.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe.each(drivers)('prebuilt statements on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
	});
	afterAll(async () => {
		await t?.drop();
	});

	const P = sql.placeholder;

	it('returns jsonb columns parsed, through execute and prebuilt alike (one rule for every column)', async () => {
		const query = sql`select '{"a":[1,"x"]}'::jsonb as obj, jsonb_agg(n) as list, null::jsonb as none
			from (values (1), (2)) as v(n)`;
		const expected = { obj: { a: [1, 'x'] }, list: [1, 2], none: null };
		expect(rowsOf(await t.database.db.execute(query))[0]).toEqual(expected);
		expect(rowsOf(await prebuilt(t.database.db, 'test.jsonb', () => query, {}))[0]).toEqual(
			expected
		);
	});

	it('builds a statement once per shape and runs it with each call’s values', async () => {
		let builds = 0;
		const echo = () => {
			builds++;
			return sql`select ${P('n')}::int * 2 as twice, ${P('word')}::text as word, ${P('n')}::int as n`;
		};
		const results = [];
		for (let n = 1; n <= 3; n++)
			results.push(
				rowsOf(await prebuilt(t.database.db, 'test.echo', echo, { n, word: `w${n}` }))[0]
			);
		expect(results).toEqual([
			{ twice: 2, word: 'w1', n: 1 },
			{ twice: 4, word: 'w2', n: 2 },
			{ twice: 6, word: 'w3', n: 3 }
		]);
		expect(builds).toBe(1);
		// Null values, and another key: another statement.
		const [row] = rowsOf(
			await prebuilt(
				t.database.db,
				'test.echo:null',
				() => (builds++, sql`select ${P('word')}::text is null as missing`),
				{ word: null }
			)
		);
		expect(row).toEqual({ missing: true });
		expect(builds).toBe(2);
	});

	it('builds for a transaction on its own and sees the transaction’s writes', async () => {
		await t.database.db.execute(sql`create table prebuilt_test (id int primary key, label text)`);
		const insert = () =>
			sql`insert into prebuilt_test (id, label) values (${P('id')}::int, ${P('label')}::text) returning id`;
		const count = () =>
			sql`select count(*)::int as n from prebuilt_test where label = ${P('label')}::text`;
		await t.database.db.transaction(async (tx) => {
			for (let id = 1; id <= 3; id++) await prebuilt(tx, 'test.insert', insert, { id, label: 'a' });
			expect(rowsOf(await prebuilt(tx, 'test.count', count, { label: 'a' }))).toEqual([{ n: 3 }]);
		});
		expect(rowsOf(await prebuilt(t.database.db, 'test.count', count, { label: 'a' }))).toEqual([
			{ n: 3 }
		]);
		// A failing run (a duplicate key) rejects and leaves the statement usable.
		await expect(
			prebuilt(t.database.db, 'test.insert', insert, { id: 1, label: 'b' })
		).rejects.toThrow();
		await prebuilt(t.database.db, 'test.insert', insert, { id: 4, label: 'b' });
		expect(rowsOf(await prebuilt(t.database.db, 'test.count', count, { label: 'b' }))).toEqual([
			{ n: 1 }
		]);
	});
});
