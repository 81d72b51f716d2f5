/**
 * The rows `bench/scale.ts` grows a database with: one `INSERT ... SELECT generate_series` per table,
 * in time order over the last 365 days, with deterministic ids (md5 of a counter) so that messages,
 * their log rows and the usage rows point at conversations and users without joins.
 */
import type postgres from 'postgres';

export interface Counts {
	/** Generated students, besides the registered bench student and admin. */
	users: number;
	/** Generated conversations, besides the long one (created through the app). */
	conversations: number;
	/** Of those, the bench student's. */
	benchConversations: number;
	/** Question + answer pairs (two messages each) over the generated conversations. */
	turns: number;
	/** Turns of the long conversation. */
	longTurns: number;
	/** Turns of the generated conversations that keep their log (four rows each, newest first). */
	eventTurns: number;
	answers: number;
	cards: number;
	usage: number;
	audit: number;
}

/** The sizes of the issue (20,000 users, 205,000 conversations, 2 million messages...) times `f`. */
export function largeCounts(f: number): Counts {
	const r = (n: number) => Math.max(1, Math.round(n * f));
	const longTurns = Math.max(5, r(1520));
	const conversations = Math.max(2, r(205_000) - 1);
	return {
		users: Math.max(1, r(20_000) - 2),
		conversations,
		benchConversations: Math.min(conversations, Math.max(1, r(5_000) - 1)),
		turns: Math.floor(r(2_000_000) / 2) - longTurns,
		longTurns,
		// Each turn logs four rows (user, start, delta, done), as the app writes them.
		eventTurns: Math.max(0, Math.floor(r(2_000_000) / 4) - longTurns),
		answers: r(500_000),
		cards: r(500_000),
		usage: r(1_000_000),
		audit: r(200_000)
	};
}

/**
 * The small database: a handful of rows of the bench student, so the same routes resolve. Its long
 * conversation fills one snapshot page (50 messages), so the ratio measures the history, not the page.
 */
export const SMALL: Counts = {
	users: 0,
	conversations: 4,
	benchConversations: 4,
	turns: 8,
	longTurns: 25,
	eventTurns: 8,
	answers: 20,
	cards: 20,
	usage: 20,
	audit: 20
};

/** Sequence numbers per turn: user (1), start (1), 40 deltas in one row, done (1). */
export const SEQ_PER_TURN = 43;
export const LONG_TITLE = 'The long conversation';

const TITLES = (
	'How do for loops work?|Why does my recursion never stop?|Reversing a list in Python|' +
	'What is a dictionary comprehension?|IndexError: list index out of range|' +
	'When should I use a class?|Reading a CSV file line by line|' +
	'Difference between == and is|How do I sort a list of tuples?|What does yield do?|' +
	'KeyError when reading a dict|Explain list slicing|How do default arguments work?|' +
	'Why is my function returning None?|String formatting with f-strings|' +
	'What is a lambda?'
).split('|');

const CORPUS = [
	'A for loop walks over any iterable, one item at a time, and the body runs once per item.',
	'When a function calls itself it needs a base case that returns without another call, otherwise Python stops it with a RecursionError.',
	'Slicing takes a start, a stop and a step: items[::-1] walks the list backwards and returns a new list.',
	'A dictionary maps keys to values; reading a key that is not there raises KeyError, while get() returns None or a default.',
	'Try printing the variable just before the failing line: the traceback tells you the line, the print tells you the value.',
	'Lists are mutable, so two names can point at the same list and a change through one shows through the other.',
	'A comprehension such as [x * x for x in numbers if x > 0] builds a list in one expression instead of a loop with append.',
	'Functions return None when they reach the end without a return statement, which is a common surprise.',
	'An f-string puts expressions inside braces, for example f"{name} scored {score:.1f} points".',
	'The == operator compares values; is compares identity, whether both names refer to the very same object.',
	'A class bundles data with the functions that work on it; start with a plain function and reach for a class when state grows.',
	'Sorting with key=lambda pair: pair[1] orders tuples by their second item; sorted() returns a new list, sort() changes it in place.',
	'Default arguments are evaluated once, when the function is defined, so a list as a default is shared between calls.',
	'Reading a file with a with block closes it for you, even when an exception is raised inside the block.',
	'A generator function uses yield to hand out values one at a time, keeping its place between calls.',
	'IndexError means the position you asked for is past the end: a list of length n has positions 0 to n - 1.',
	'What do you expect this line to print? Write your guess down first, then run it and compare.',
	'Good names help: total_price says more than tp, and the next reader of the code is often you.',
	'Break the problem into steps, write one small function per step, and test each one on its own.',
	'Here is a hint rather than the answer: look at what the loop variable holds on its last pass.'
].join(' ');

/** Runs `fn` without the tables' secondary indexes, then builds them (faster than row by row). */
async function withoutIndexes(sql: postgres.Sql, tables: string[], fn: () => Promise<void>) {
	const indexes = await sql<{ name: string; def: string }[]>`
		select indexname as name, indexdef as def from pg_indexes i
		where schemaname = 'public' and tablename = any(${tables})
			and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`;
	for (const i of indexes) await sql.unsafe(`drop index "${i.name}"`);
	await fn();
	const t = performance.now();
	for (const i of indexes) await sql.unsafe(i.def);
	return { indexes: indexes.length, ms: performance.now() - t };
}

/**
 * Fills the database (already migrated, with the registered users and the long conversation) with
 * `c`'s rows, printing each table's time. Foreign keys are valid by construction, so their
 * triggers are off (session_replication_role = replica) while it runs.
 */
export async function generate(
	sql: postgres.Sql,
	ids: { student: string; admin: string; long: string },
	c: Counts,
	log: (line: string) => void
) {
	const [{ nq } = { nq: 0 }] = await sql<
		{ nq: number }[]
	>`select count(*)::int as nq from questions`;
	if (!nq) throw new Error('the question bank is empty: no answers or review cards to generate');
	const end = new Date();
	const t0 = `'${new Date(end.getTime() - 365 * 86_400_000).toISOString()}'::timestamptz`;
	const at = (p: string) => `(${t0} + (${p}) * interval '365 days')`;
	const U = c.users;
	const Cn = c.conversations;
	const stride = Math.max(1, Math.floor(Cn / Math.max(1, c.benchConversations)));
	await sql.unsafe(`set session_replication_role = replica`);
	await sql.unsafe(`set synchronous_commit = off`);
	await sql.unsafe(`set maintenance_work_mem = '512MB'`);
	await sql.unsafe(`set work_mem = '64MB'`);
	const fns = [
		`h(x bigint) returns bigint as $$ select hashint8(x)::bigint & 2147483647 $$`,
		`uid(i bigint) returns uuid as $$ select md5('u' || i)::uuid $$`,
		`cid(j bigint) returns uuid as $$ select md5('c' || j)::uuid $$`,
		`mid(j bigint, t int, k int) returns uuid as $$ select md5('m' || j || ':' || t || ':' || k)::uuid $$`,
		`txt(seed bigint, len int) returns text as $c$ select substr($t$${CORPUS.repeat(3)}$t$, 1 + (pg_temp.h(seed) % ${CORPUS.length * 2})::int, len) $c$`,
		// A student's question: 200 to 400 characters; an answer: 320 to 800, in 40 equal parts.
		`utext(j bigint, t int) returns text as $$ select pg_temp.txt(j * 100003 + t * 2, 200 + (pg_temp.h(j * 100003 + t * 2 + 7) % 200)::int) $$`,
		`atext(j bigint, t int) returns text as $$ select pg_temp.txt(j * 100003 + t * 2 + 1, 40 * (8 + (pg_temp.h(j * 100003 + t * 2 + 1) % 13)::int)) $$`,
		`parts(s text) returns jsonb as $$ select jsonb_agg(substr(s, p * (length(s) / 40) + 1, length(s) / 40) order by p) from generate_series(0, 39) p $$`,
		// Who was a student at fraction p of the year (early students have more rows, like in life).
		`user_at(p float8, x bigint) returns uuid as $$ select case when ${U} = 0 then '${ids.student}'::uuid else pg_temp.uid(x % greatest(1, floor(p * ${U}))::bigint) end $$`,
		`is_bench(j bigint) returns boolean as $$ select ${U} = 0 or (j % ${stride} = 0 and j / ${stride} < ${c.benchConversations}) $$`,
		`owner(j bigint) returns uuid as $$ select case when pg_temp.is_bench(j) then '${ids.student}'::uuid else pg_temp.user_at((j + 0.5) / ${Cn}::float8, pg_temp.h(j)) end $$`
	];
	for (const f of fns)
		await sql.unsafe(`create or replace function pg_temp.${f} language sql immutable`);

	const steps: [string, number, ...string[]][] = [
		[
			'users',
			U,
			`insert into users (id, email, display_name, password_hash, role, disabled_at, created_at, updated_at)
			select pg_temp.uid(i), 'student' || i || '@scale.example',
				(array['Ada','Alan','Grace','Linus','Margaret','Guido','Barbara','Ken','Frances','Dennis'])[1 + pg_temp.h(i) % 10]
					|| ' ' || (array['Lovelace','Turing','Hopper','Torvalds','Hamilton','Rossum','Liskov','Thompson','Allen','Ritchie'])[1 + pg_temp.h(i + 1) % 10],
				(select password_hash from users where id = '${ids.student}'), 'student',
				case when pg_temp.h(i) % 100 = 0 then ts + interval '30 days' end, ts, ts
			from generate_series(0, ${U - 1}) i, lateral (select ${at(`(i + 0.5) / ${Math.max(1, U)}::float8`)} as ts) x`
		],
		[
			'conversations',
			Cn + 1,
			`insert into conversations (id, user_id, title, last_seq, created_at, updated_at)
			select id, user_id, (array[${TITLES.map((t) => `'${t}'`).join(',')}])[1 + pg_temp.h(j) % ${TITLES.length}],
				turns * ${SEQ_PER_TURN}, created_at, least(now(), created_at + turns * step)
			from conv_spec where j >= 0 order by j`,
			`update conversations c set title = '${LONG_TITLE}', last_seq = s.turns * ${SEQ_PER_TURN},
				created_at = s.created_at, updated_at = s.created_at + s.turns * s.step
			from conv_spec s where s.j = -1 and c.id = s.id`
		],
		[
			'messages',
			2 * (c.turns + c.longTurns),
			`insert into messages (id, conversation_id, role, content, status, client_id, seq, model, usage, created_at, updated_at)
			select pg_temp.mid(s.j, t, k), s.id, case k when 0 then 'user' else 'assistant' end,
				case k when 0 then pg_temp.utext(s.j, t) else pg_temp.atext(s.j, t) end, 'complete',
				case k when 0 then 'scale-' || s.j || '-' || t end, t * ${SEQ_PER_TURN} + 1 + k,
				case k when 1 then 'claude-sonnet-4-5' end,
				case k when 1 then jsonb_build_object('inputTokens', 1500 + pg_temp.h(s.j + t) % 4000,
					'outputTokens', 100 + pg_temp.h(s.j - t) % 700, 'cachedInputTokens', 0) end,
				s.created_at + t * s.step + k * interval '20 seconds', s.created_at + t * s.step + k * interval '40 seconds'
			from conv_spec s cross join lateral generate_series(0, s.turns - 1) t cross join (values (0), (1)) v(k)`
		],
		[
			'conversation_events',
			4 * (c.eventTurns + c.longTurns),
			`insert into conversation_events (conversation_id, seq, first_seq, type, data, created_at)
			select s.id, t * ${SEQ_PER_TURN} + e.last, t * ${SEQ_PER_TURN} + e.first, e.type,
				case e.k
					when 0 then jsonb_build_object('messageId', pg_temp.mid(s.j, t, 0), 'text', pg_temp.utext(s.j, t), 'clientId', 'scale-' || s.j || '-' || t)
					when 2 then jsonb_build_object('messageId', pg_temp.mid(s.j, t, 1), 'parts', pg_temp.parts(pg_temp.atext(s.j, t)))
					else jsonb_build_object('messageId', pg_temp.mid(s.j, t, 1)) end,
				s.created_at + t * s.step + e.k * interval '5 seconds'
			from conv_spec s cross join lateral generate_series(0, s.turns - 1) t
			cross join (values (0, 'user', 1, 1), (1, 'start', 2, 2), (2, 'delta', 3, 42), (3, 'done', 43, 43)) e(k, type, first, last)
			where s.ev`
		],
		[
			'llm_usage',
			c.usage,
			`insert into llm_usage (user_id, conversation_id, message_id, purpose, provider, model, source, routed,
				input_tokens, output_tokens, cost_usd, saved_usd, saved_tokens, cache_eligible, latency_ms, first_token_ms,
				outcome, error_kind, created_at)
			select case when health then null else pg_temp.owner(j) end, case when health then null else pg_temp.cid(j) end,
				case when health then null else pg_temp.mid(j, 0, 1) end, case when health then 'health' else 'tutor' end,
				m.provider, m.model, m.source, m.routed, tin, tout,
				case when m.source = 'cache' then 0 else (tin * m.pin + tout * m.pout) / 1e6 end,
				case when m.source = 'cache' then (tin * 3 + tout * 15) / 1e6 else 0 end,
				case when m.source = 'cache' then tin + tout else 0 end, x % 3 = 0,
				2000 + (x / 17) % 13000, 300 + (x / 19) % 1700,
				case when o < 96 then 'complete' when o < 98 then 'error' else 'stopped' end,
				case when o between 96 and 97 then 'overloaded' end, ${at('p')}
			from generate_series(0, ${c.usage - 1}) r,
				lateral (select (r + 0.5) / ${c.usage}::float8 as p, pg_temp.h(r) as x) v,
				lateral (select floor(p * ${Cn})::bigint as j, x % 200 = 0 as health, 1500 + (x / 7) % 4500 as tin,
					100 + (x / 11) % 800 as tout, (x / 13) % 100 as o,
					case when x % 100 < 60 then 0 when x % 100 < 85 then 1 when x % 100 < 95 then 2 else 3 end as b) w
			join (values (0, 'anthropic', 'claude-sonnet-4-5', 'provider', false, 3.0, 15.0),
				(1, 'anthropic', 'claude-haiku-4-5', 'provider', true, 1.0, 5.0),
				(2, 'openai', 'gpt-4.1-mini', 'provider', false, 0.4, 1.6),
				(3, 'anthropic', 'claude-sonnet-4-5', 'cache', false, 0, 0)) m(b, provider, model, source, routed, pin, pout)
				on m.b = w.b
			order by r`
		],
		[
			'answers',
			c.answers,
			`insert into answers (user_id, question_id, given, correct, time_ms, mode, answered_at)
			select case when a % 100 = 0 then '${ids.student}'::uuid else pg_temp.user_at(p, x) end,
				q.ids[1 + x % ${nq}], jsonb_build_object('choice', x % 4), (x / 3) % 3 <> 0,
				3000 + (x / 7) % 90000, case when (x / 11) % 100 < 85 then 'practice' else 'review' end, ${at('p')}
			from (select array_agg(id order by ref) as ids from questions) q, generate_series(0, ${c.answers - 1}) a,
				lateral (select (a + 0.5) / ${c.answers}::float8 as p, pg_temp.h(a + 1000000000) as x) v`
		],
		[
			'review_cards',
			c.cards,
			`insert into review_cards (user_id, question_id, due, stability, difficulty, elapsed_days, scheduled_days,
				reps, lapses, state, last_review)
			select u.id, q.ids[1 + (greatest(u.i, 0) * 37 + k) % ${nq}],
				now() - ((x / 7) % 90 + 1 - (1 + x % 60)) * interval '1 day',
				1.1 * (1 + x % 60), 1 + (x % 90) / 10.0, x % 30, 1 + x % 60, 1 + x % 15, x % 4, 2,
				now() - ((x / 7) % 90 + 1) * interval '1 day'
			from (select array_agg(id order by ref) as ids from questions) q,
				(select -1::bigint as i, '${ids.student}'::uuid as id, ${Math.min(nq, c.cards, 150)} as n
				union all select i, pg_temp.uid(i), (floor((i + 1) * ${c.cards - Math.min(nq, c.cards, 150)}::numeric / ${Math.max(1, U)})
					- floor(i * ${c.cards - Math.min(nq, c.cards, 150)}::numeric / ${Math.max(1, U)}))::int
				from generate_series(0, ${U - 1}) i) u,
				lateral generate_series(0, u.n - 1) k, lateral (select pg_temp.h(u.i * 1000 + k) as x) v`
		],
		[
			'audit_log',
			c.audit,
			`insert into audit_log (actor_id, action, target_id, detail, ip, created_at)
			select case when m >= 93 then '${ids.admin}'::uuid else pg_temp.user_at(p, x) end,
				case when m < 10 then 'account.register' when m < 85 then 'account.login'
					when m < 90 then 'account.logout_everywhere' when m < 93 then 'account.password_changed'
					when m < 95 then 'user.disable' when m < 96 then 'user.enable' when m < 98 then 'user.role_change'
					when m < 99 then 'user.export' else 'ai.health_check' end,
				case when m between 93 and 98 then pg_temp.user_at(p, x / 3)::text end,
				case when m between 93 and 98 then jsonb_build_object('email', 'student' || (x / 3) % greatest(1, floor(p * ${U})::bigint) || '@scale.example')
					else '{}'::jsonb end,
				'10.' || (x % 250) || '.' || ((x / 250) % 250) || '.' || ((x / 62500) % 250), ${at('p')}
			from generate_series(0, ${c.audit - 1}) d,
				lateral (select (d + 0.5) / ${c.audit}::float8 as p, pg_temp.h(d + 2000000000) as x) v,
				lateral (select x % 100 as m) w
			order by d`
		]
	];

	// One row per conversation: owner, turns, start and pace, and whether its log is kept.
	const T = c.turns;
	await sql.unsafe(`create temp table conv_spec as
		select j, pg_temp.cid(j) as id, pg_temp.owner(j) as user_id,
			(floor((j + 1) * ${T}::numeric / ${Cn}) - floor(j * ${T}::numeric / ${Cn}))::int as turns,
			${at(`(j + 0.5) / ${Cn}::float8`)} as created_at, interval '3 minutes' as step,
			floor(j * ${T}::numeric / ${Cn}) >= ${T - c.eventTurns} as ev
		from generate_series(0, ${Cn - 1}) j
		union all select -1, '${ids.long}'::uuid, '${ids.student}'::uuid, ${c.longTurns},
			now() - interval '300 days', interval '290 days' / ${c.longTurns}, true`);
	await sql.unsafe(
		`update users set created_at = ${t0} - interval '1 day' where id in ('${ids.student}', '${ids.admin}')`
	);

	const timings: { table: string; rows: number; ms: number }[] = [];
	const tables = steps.map(([t]) => t);
	const rebuilt = await withoutIndexes(sql, tables, async () => {
		for (const [table, rows, ...statements] of steps) {
			const t = performance.now();
			if (rows > 0) for (const statement of statements) await sql.unsafe(statement);
			const ms = performance.now() - t;
			timings.push({ table, rows, ms });
			log(
				`  ${table.padEnd(20)} ${rows.toLocaleString('en-US').padStart(10)} rows ${(ms / 1000).toFixed(1).padStart(7)} s`
			);
		}
	});
	log(
		`  ${`secondary indexes (${rebuilt.indexes})`.padEnd(31)} ${(rebuilt.ms / 1000).toFixed(1).padStart(12)} s`
	);
	timings.push({ table: 'indexes', rows: rebuilt.indexes, ms: rebuilt.ms });
	await sql.unsafe(`drop table conv_spec`);
	await sql.unsafe(`set session_replication_role = origin`);
	return { timings, longLastSeq: c.longTurns * SEQ_PER_TURN };
}

/** Generates `c`'s rows into a database holding the measured accounts, then vacuums it. */
export async function grow(sql: postgres.Sql, c: Counts, log: (line: string) => void) {
	const t = performance.now();
	const { longLastSeq } = await generate(sql, await idsOf(sql), c, log);
	// Triggers were off while loading: sum the usage log into its rollups as migration 0007 does.
	const r = performance.now();
	await sql.unsafe('select usage_rollups_rebuild()');
	log(
		`  ${'usage rollups'.padEnd(31)} ${((performance.now() - r) / 1000).toFixed(1).padStart(12)} s`
	);
	const v = performance.now();
	await sql.unsafe('vacuum (analyze)');
	const secs = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`.padStart(14);
	log(`  ${'vacuum (analyze)'.padEnd(31)} ${secs(v)}`);
	log(`  ${'total'.padEnd(31)} ${secs(t)}`);
	return { longLastSeq };
}

/** The measured accounts (registered through the app's forms). */
export const STUDENT = { email: 'bench-student@scale.example', displayName: 'Bench Student' };
export const ADMIN = { email: 'admin@scale.example', displayName: 'Scale Admin' };

/** What a finished generation records in the database's comment (read by --reuse). */
export interface Meta {
	scale: number;
	complete: boolean;
	longLastSeq: number;
}

export async function metaOf(admin: postgres.Sql, name: string): Promise<Meta | null> {
	const [row] = await admin<{ c: string | null }[]>`
		select shobj_description(oid, 'pg_database') as c from pg_database where datname = ${name}`;
	try {
		return JSON.parse(row?.c ?? 'null') as Meta | null;
	} catch {
		return null;
	}
}

export async function idsOf(sql: postgres.Sql) {
	const [r] = await sql<{ student: string; admin: string; long: string }[]>`
		select s.id as student, a.id as admin, c.id as long from users s, users a, conversations c
		where s.email = ${STUDENT.email} and a.email = ${ADMIN.email} and c.user_id = s.id
		order by (c.title = ${LONG_TITLE}) desc, c.created_at limit 1`;
	if (!r) throw new Error('the bench users are missing');
	return r;
}

/** The ids and slugs the routes need: the first lesson with an exercise, the student's mock exam... */
export async function routeParams(sql: postgres.Sql, student: string) {
	const [s] = await sql<Record<string, string>[]>`
		select m.id as module_id, m.slug as module, l.id as lesson_id, l.slug as lesson,
			(select id from exercises where lesson_id = l.id order by position limit 1) as exercise,
			(select id from questions order by ref limit 1) as question,
			(select slug from exams order by position, slug limit 1) as exam,
			(select id from mock_exams where user_id = ${student} limit 1) as mock,
			(select id from skill_assessments where user_id = ${student} limit 1) as diagnostic
		from modules m join lessons l on l.module_id = m.id
		where m.status = 'published' and l.status = 'published'
			and exists (select 1 from exercises e where e.lesson_id = l.id)
		order by m.position, l.position limit 1`;
	if (!s) throw new Error('no published lesson with an exercise');
	return s;
}

/** Takes back what a measurement added: the long conversation's new turns, fresh conversations. */
export async function reset(
	sql: postgres.Sql,
	ids: { long: string; student: string },
	seq: number
) {
	await sql`delete from messages where conversation_id = ${ids.long} and seq > ${seq}`;
	await sql`delete from conversation_events where conversation_id = ${ids.long} and seq > ${seq}`;
	await sql`update conversations set last_seq = ${seq}, generation_id = null, lease_owner = null,
		lease_expires_at = null where id = ${ids.long}`;
	await sql`delete from conversations where user_id = ${ids.student} and id <> ${ids.long}
		and (title like 'Scale bench question%' or title = 'New conversation')`;
}
