/**
 * After a year a school's tables hold hundreds of thousands of rows. The statements of the admin,
 * practice and tutor pages are planned against tables seeded past 100,000 rows (and analyzed):
 * none may read such a table by a sequential scan.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as auditLog from '../../src/lib/server/admin/audit-log.ts';
import * as adminUsers from '../../src/lib/server/admin/users.ts';
import * as cache from '../../src/lib/server/cost/cache.ts';
import * as reports from '../../src/lib/server/cost/reports.ts';
import { schema, type Db } from '../../src/lib/server/db/index.ts';
import { seedQuestionBank } from '../../src/lib/server/practice/bank.ts';
import * as practice from '../../src/lib/server/practice/questions.ts';
import { loadStats } from '../../src/lib/server/practice/stats.ts';
import * as convos from '../../src/lib/server/tutor/conversations.ts';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../helpers/db.ts';

const ROWS = 120_000;
const BIG = [
	'conversations',
	'messages',
	'conversation_events',
	'answers',
	'review_cards',
	'llm_usage',
	'audit_log'
];

/** How a plan reads `relation`: its scan node types. */
function scansOf(plan: Record<string, unknown>, relation: string): string[] {
	const own = plan['Relation Name'] === relation ? [String(plan['Node Type'])] : [];
	const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
	return [...own, ...children.flatMap((child) => scansOf(child, relation))];
}

/** Every relation a plan reads by a sequential scan, except one a Limit right above it bounds. */
function seqScans(plan: Record<string, unknown>, bounded = false): string[] {
	const own = plan['Node Type'] === 'Seq Scan' && !bounded ? [String(plan['Relation Name'])] : [];
	const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
	const limit = plan['Node Type'] === 'Limit';
	return [...own, ...children.flatMap((child) => seqScans(child, limit))];
}

describe.runIf(TEST_DATABASE_URL || process.env.CI)('statement plans on a year of data', () => {
	let t: TestDatabase;
	let client: postgres.Sql;
	let db: Db;
	const statements: { query: string; params: unknown[] }[] = [];
	let student: string;
	let long: string;

	beforeAll(async () => {
		t = await openTestDatabase('postgres');
		client = postgres(t.url!, { max: 2, onnotice: () => {} });
		db = drizzle(client, {
			schema,
			logger: { logQuery: (query, params) => statements.push({ query, params }) }
		}) as unknown as Db;
		await seedQuestionBank(
			t.database.db,
			path.resolve(import.meta.dirname, '../../content/questions')
		);
		await client.unsafe(`
			insert into users (email, display_name, password_hash)
			select 'user' || i || '@school.example', 'User ' || i, 'x' from generate_series(1, 20000) i;
			insert into users (email, display_name, password_hash) values ('me@school.example', 'Me', 'x');
			insert into conversations (user_id, title, updated_at)
			select u.id, 'Conversation ' || i, now() - make_interval(mins => i)
			from generate_series(1, ${ROWS}) i
			join lateral (select id from users where email = 'user' || (i % 20000 + 1) || '@school.example') u on true;
			-- One student with 5,000 conversations, one of them 3,040 messages long.
			insert into conversations (user_id, title, updated_at)
			select u.id, case when i = 1 then 'Long' else 'Mine ' || i end, now() - make_interval(mins => i)
			from generate_series(1, 5000) i, (select id from users where email = 'me@school.example') u;
			insert into messages (conversation_id, role, content, status, seq)
			select c.id, case when i % 2 = 1 then 'user' else 'assistant' end, repeat('text ', 40), 'complete', i
			from generate_series(1, 3040) i, (select id from conversations where title = 'Long') c;
			insert into messages (conversation_id, role, content, status, seq)
			select id, 'user', repeat('text ', 40), 'complete', 1 from conversations where title like 'Conversation %';
			insert into conversation_events (conversation_id, seq, first_seq, type, data)
			select c.id, i, i, 'delta', '{}'::jsonb
			from generate_series(1, 3040) i, (select id from conversations where title = 'Long') c;
			insert into conversation_events (conversation_id, seq, first_seq, type, data)
			select id, 1, 1, 'user', '{}'::jsonb from conversations where title like 'Conversation %';
			insert into answers (user_id, question_id, correct, answered_at)
			select u.id, q.id, i % 3 = 0, now() - make_interval(hours => i % 8760)
			from generate_series(1, ${ROWS}) i
			join lateral (select id from users where email = 'user' || (i % 20000 + 1) || '@school.example') u on true
			join lateral (select id from questions order by id offset (i % 150) limit 1) q on true;
			-- The student's year of practice: 5,000 answers among everyone's.
			insert into answers (user_id, question_id, correct, answered_at)
			select u.id, q.id, i % 4 <> 0, now() - make_interval(hours => i)
			from generate_series(1, 5000) i, (select id from users where email = 'me@school.example') u
			join lateral (select id from questions order by id offset (i % 150) limit 1) q on true;
			insert into review_cards (user_id, question_id, due, stability, difficulty)
			select u.id, q.id, now() + make_interval(hours => (random() * 500)::int), 1, 5
			from (select id from users where email like 'user%') u
			cross join (select id from questions order by id limit 6) q;
			insert into llm_usage (user_id, provider, model, outcome, cost_usd, created_at)
			select u.id, 'anthropic', 'claude-sonnet-4-5', 'complete', 0.001, now() - make_interval(mins => i * 4)
			from generate_series(1, ${ROWS}) i
			join lateral (select id from users where email = 'user' || (i % 20000 + 1) || '@school.example') u on true;
			insert into audit_log (action, actor_id, target_id, created_at)
			select 'account.login', u.id, u.id::text, now() - make_interval(mins => i)
			from generate_series(1, ${ROWS}) i
			join lateral (select id from users where email = 'user' || (i % 20000 + 1) || '@school.example') u on true;
			analyze;
		`);
		student = (await client`select id from users where email = 'me@school.example'`)[0]!.id;
		long = (await client`select id from conversations where title = 'Long'`)[0]!.id;
	}, 300_000);
	afterAll(async () => {
		await client?.end();
		await t?.drop();
	});

	it('the seeded tables are past 100,000 rows', async () => {
		for (const table of BIG) {
			const [row] = await client.unsafe(`select count(*)::int as n from ${table}`);
			expect(row!.n, table).toBeGreaterThan(100_000);
		}
	});

	it('reads no big table by a sequential scan', async () => {
		const today = reports.startOfDay();
		const month = reports.startOfMonth();
		await Promise.all([
			auditLog.list(db, { page: 1 }),
			auditLog.list(db, { page: 3, action: 'user.delete' }),
			// An admin looks up one person's actions.
			auditLog.list(db, { page: 1, actor: 'user12345@' }),
			auditLog.actions(db),
			reports.dailyCost(db, { days: 30 }),
			reports.dailyCost(db, { days: 30, userId: student }),
			reports.summary(db, month),
			reports.byModel(db, month),
			reports.topUsers(db, today),
			reports.spendByUser(db, [student]),
			cache.stats(db),
			adminUsers.list(db, { query: 'user123', page: 1 }),
			adminUsers.recentConversations(db, student),
			loadStats(db, student),
			practice.dueCount(db, student),
			practice.history(db, student),
			convos.list(db, student, { page: 1 }),
			convos.history(db, long, 6_000)
		]);
		expect(statements.length).toBeGreaterThan(15);
		const found: string[] = [];
		for (const { query, params } of statements) {
			const [row] = await client.unsafe(`explain (format json) ${query}`, params as never[]);
			const plan = (row!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan;
			const tables = seqScans(plan).filter((r) => BIG.includes(r));
			if (tables.length) found.push(`${tables.join(', ')}: ${query}\n${JSON.stringify(plan)}`);
		}
		expect(found).toEqual([]);
	});

	it("reads a student's answers from the index alone (the practice pages)", async () => {
		// A year-old table is vacuumed by autovacuum: the visibility map lets the index answer alone.
		await client`vacuum analyze answers`;
		statements.length = 0;
		await loadStats(db, student);
		await practice.pick(db, student, { mode: 'practice', limit: 1 });
		const reads: string[] = [];
		for (const { query, params } of statements) {
			const [row] = await client.unsafe(`explain (format json) ${query}`, params as never[]);
			const plan = (row!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan;
			reads.push(...scansOf(plan, 'answers'));
		}
		expect(reads.length).toBeGreaterThanOrEqual(3);
		expect(new Set(reads)).toEqual(new Set(['Index Only Scan']));
	});

	it('a user search gives the newest matches, whether few (sorted) or many (walked)', async () => {
		const expected = async (pattern: string, page: number) =>
			(
				await client`select id from users where email ilike ${pattern} or display_name ilike ${pattern}
					order by created_at desc, id desc limit 25 offset ${(page - 1) * 25}`
			).map((r) => r.id);
		for (const [query, total, page] of [
			['user1234', 11, 1],
			['user1234', 11, 2], // past the last match: counted apart
			['user12', 1111, 2],
			['@school', 10_000, 2]
		] as const) {
			const found = await adminUsers.list(db, { query, page });
			expect([found.total, found.pageSize], query).toEqual([total, 25]);
			expect(
				found.rows.map((r) => r.id),
				query
			).toEqual(await expected(`%${query}%`, page));
		}
	});
});
