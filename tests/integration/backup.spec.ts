/**
 * scripts/backup and scripts/restore on real PostgreSQL: a database filled by the app's own code
 * (accounts, sessions, audit, conversations streamed by the tutor engine) is dumped, wiped and
 * restored, and every row of every table comes back. Also: verification, pruning, refusing a
 * corrupt dump without touching the database.
 *
 * Runs when TEST_DATABASE_URL is set; in CI a missing database or pg_dump fails the suite.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockProvider } from '../../src/lib/server/ai/mock.ts';
import * as accounts from '../../src/lib/server/auth/accounts.ts';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';
import * as convos from '../../src/lib/server/tutor/conversations.ts';
import { TutorEngine } from '../../src/lib/server/tutor/engine.ts';
import { testConfig } from '../helpers/config.ts';
import { createPostgresDatabase, TEST_DATABASE_URL } from '../helpers/db.ts';
import { ROOT } from '../helpers/server.ts';

const run = promisify(execFile);
const BACKUP = path.join(ROOT, 'scripts', 'backup');
const RESTORE = path.join(ROOT, 'scripts', 'restore');

/** Row count and a digest of every row, per table, in every application schema. */
async function contents(sql: postgres.Sql) {
	const tables = await sql<{ schema: string; name: string }[]>`
		select table_schema as schema, table_name as name from information_schema.tables
		where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
		order by 1, 2`;
	const result: Record<string, { rows: number; digest: string }> = {};
	for (const { schema, name } of tables) {
		const [row] = await sql.unsafe<{ rows: number; digest: string | null }[]>(
			`select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest
			 from "${schema}"."${name}" t`
		);
		result[`${schema}.${name}`] = { rows: row!.rows, digest: row!.digest ?? '' };
	}
	return result;
}

describe.runIf(TEST_DATABASE_URL || process.env.CI)('backup and restore', () => {
	let url: string;
	let drop: () => Promise<void>;
	let database: Database | undefined;
	let sql: postgres.Sql;
	let dir: string;
	/** Every table as it was when the first dump was taken. */
	let dumped: Awaited<ReturnType<typeof contents>>;
	const config = testConfig({ LLM_PROVIDER: 'mock', TUTOR_FLUSH_MS: '20' });
	const env = () => ({ PATH: process.env.PATH ?? '', DATABASE_URL: url, BACKUP_DIR: dir });
	const dumps = () => readdirSync(dir).filter((f) => /^tutor-\d{8}T\d{6}Z\.dump$/.test(f));
	/** The dump the first test wrote (the others are planted by the pruning check). */
	const written = () => path.join(dir, dumps().filter((f) => !f.startsWith('tutor-2000'))[0]!);

	beforeAll(async () => {
		({ url, drop } = await createPostgresDatabase());
		dir = mkdtempSync(path.join(tmpdir(), 'tutor-backups-'));
		database = await openDatabase({ url, poolMax: 4 });
		const deps = { db: database.db, config };
		const engine = new TutorEngine({
			database,
			config,
			provider: createMockProvider({ tokenDelayMs: 0, tokenCount: 25 })
		});
		await engine.start();
		for (const n of [1, 2, 3]) {
			const registered = await accounts.register(
				deps,
				{
					email: `student${n}@example.com`,
					displayName: `Student ${n}`,
					password: `password ${n}!x`
				},
				{ ip: `10.0.0.${n}`, userAgent: 'backup test' }
			);
			if (!registered.ok) throw new Error(registered.message);
			const userId = registered.session.user.id;
			for (const question of ['What is a loop?', 'Why does my "if" fail? ünïcödé ✓']) {
				const c = await convos.create(database.db, userId);
				expect(await engine.send(userId, c.id, `${c.id}-1`, question)).toEqual({ ok: true });
				const end = Date.now() + 10_000;
				while ((await convos.get(database.db, userId, c.id))?.generationId !== null) {
					if (Date.now() > end) throw new Error('answer did not finish');
					await new Promise((r) => setTimeout(r, 20));
				}
			}
		}
		await engine.close(1000);
		sql = postgres(url, { max: 1, onnotice: () => {} });
	});
	afterAll(async () => {
		await database?.close();
		await sql?.end();
		await drop?.();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it('backs up, survives a wipe, and restores every row of every table', async () => {
		const before = await contents(sql);
		dumped = before;
		for (const table of [
			'public.users',
			'public.refresh_tokens',
			'public.audit_log',
			'public.conversations',
			'public.messages',
			'public.conversation_events',
			'drizzle.__drizzle_migrations'
		])
			expect(before[table]?.rows, table).toBeGreaterThan(0);
		expect(before['public.messages']!.rows).toBe(12);

		// Pruning: a dump past BACKUP_KEEP_DAYS goes, a recent one and the new one stay.
		const old = path.join(dir, 'tutor-20000101T000000Z.dump');
		const recent = path.join(dir, 'tutor-20000102T000000Z.dump');
		writeFileSync(old, 'old');
		writeFileSync(recent, 'recent');
		const day = 86_400;
		const now = Date.now() / 1000;
		utimesSync(old, now - 31 * day, now - 31 * day);
		utimesSync(recent, now - 29 * day, now - 29 * day);

		const started = performance.now();
		const backup = await run(BACKUP, [], { env: { ...env(), BACKUP_KEEP_DAYS: '30' } });
		const backupMs = performance.now() - started;
		expect(backup.stderr).toMatch(/wrote .*tutor-\d{8}T\d{6}Z\.dump/);
		expect(backup.stderr).toContain(`pruned ${old}`);
		expect(dumps().filter((f) => !f.startsWith('tutor-2000'))).toHaveLength(1);
		expect(dumps()).toContain('tutor-20000102T000000Z.dump');
		expect(dumps()).not.toContain('tutor-20000101T000000Z.dump');
		expect(readdirSync(dir).some((f) => f.endsWith('.partial'))).toBe(false);
		const file = written();

		// The whole application goes: every schema, as after a lost disk or a bad migration.
		await database!.close();
		database = undefined;
		await sql.unsafe(
			'drop schema public cascade; drop schema drizzle cascade; create schema public'
		);
		expect(Object.keys(await contents(sql))).toEqual([]);

		const restoreStarted = performance.now();
		await run(RESTORE, [file, '--yes'], { env: env() });
		const restoreMs = performance.now() - restoreStarted;
		expect(await contents(sql)).toEqual(before);
		console.info(
			`backup ${backupMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms, ${Object.keys(before).length} tables`
		);

		// The app opens the restored database (no migration left to run) and its users can log in.
		database = await openDatabase({ url, poolMax: 2 });
		const login = await accounts.login(
			{ db: database.db, config },
			{ email: 'student2@example.com', password: 'password 2!x' },
			{ ip: '10.0.0.2' }
		);
		expect(login.ok).toBe(true);
	});

	it('restoring over a database that has moved on brings back exactly the dumped state', async () => {
		const file = written();
		// Since the dump: a login (new session rows), deleted conversations and a stray table.
		await sql`create table public.stray (id int)`;
		await sql`delete from conversations`;
		await database!.close();
		database = undefined;
		await run(RESTORE, [file, '--yes'], { env: env() });
		expect(await contents(sql)).toEqual(dumped);
	});

	it('refuses a corrupt dump and leaves the database untouched', async () => {
		const before = await contents(sql);
		const bad = path.join(dir, 'corrupt.dump');
		writeFileSync(bad, 'PGDMP this is not a dump');
		await expect(run(RESTORE, [bad, '--yes'], { env: env() })).rejects.toThrow();
		expect(await contents(sql)).toEqual(before);
	});

	it('writes nothing when the database cannot be reached, and says so', async () => {
		const files = readdirSync(dir);
		const failed = run(BACKUP, [], {
			env: { ...env(), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }
		});
		await expect(failed).rejects.toMatchObject({ stderr: expect.stringMatching(/FAILED/) });
		expect(readdirSync(dir)).toEqual(files);
	});

	it('asks before replacing a database unless told --yes', async () => {
		const file = written();
		await expect(run(RESTORE, [file], { env: env() })).rejects.toMatchObject({
			stderr: expect.stringMatching(/without --yes/)
		});
	});
});
