/**
 * The admin content pages, actions and /api/admin/content endpoints through the built server:
 * every one refused to anonymous visitors (login redirect or 401) and to students (403), a pack
 * with errors uploaded by an admin changes nothing and names each error's file, a good one imports,
 * export downloads a zip, and the content CLI (build/content.js) round-trips a pack on PGlite.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePack, readPackDir } from '../../src/lib/server/learn/pack.ts';
import { startAppWithUsers } from '../helpers/app.ts';
import { ROOT, type Client, type RunningServer } from '../helpers/server.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import postgres from 'postgres';

const ADMIN = 'content.admin@example.com';
const STARTER = path.join(ROOT, 'content', 'starter');
let server: RunningServer;
let anon: Client;
let student: Client;
let admin: Client;
const ids = { module: '', lesson: '', exercise: '' };

/** The pack files of an exported zip, without the top folder. */
async function exported(c: Client, query = '') {
	const res = await c.fetch(`/api/admin/content/export${query}`);
	expect(res.status).toBe(200);
	const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
	return new Map(
		Object.entries(files).map(([name, data]) => [
			name.split('/').slice(1).join('/'),
			strFromU8(data)
		])
	);
}

function upload(c: Client, bytes: Uint8Array, name = 'pack.zip') {
	const form = new FormData();
	form.append(
		'pack',
		new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
		name
	);
	return c.fetch('/api/admin/content/import', { method: 'POST', body: form });
}

const zip = (files: Map<string, string>, root = 'pack') =>
	zipSync(Object.fromEntries([...files].map(([k, v]) => [`${root}/${k}`, strToU8(v)])));

beforeAll(async () => {
	({
		server,
		anon,
		students: [student],
		admin
	} = await startAppWithUsers(ADMIN, ['content.student@example.com']));
	// Find a module, lesson and exercise of the seeded starter curriculum through the admin pages.
	const overview = await (await admin.fetch('/admin/content')).text();
	ids.lesson = /\/admin\/content\/lessons\/([0-9a-f-]{36})/.exec(overview)![1]!;
	ids.module = /\/admin\/content\/modules\/([0-9a-f-]{36})/.exec(overview)![1]!;
	const lesson = await (await admin.fetch(`/admin/content/lessons/${ids.lesson}`)).text();
	ids.exercise = /\/admin\/content\/exercises\/([0-9a-f-]{36})/.exec(lesson)![1]!;
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe('who may use the content editor', () => {
	const pages = () => [
		'/admin/content',
		'/admin/content/packs',
		'/admin/content/modules/new',
		`/admin/content/modules/${ids.module}`,
		`/admin/content/lessons/new?module=${ids.module}`,
		`/admin/content/lessons/${ids.lesson}`,
		`/admin/content/exercises/new?lesson=${ids.lesson}`,
		`/admin/content/exercises/${ids.exercise}`
	];

	it('pages: anonymous visitors go to log in, students get 403, admins 200', async () => {
		for (const page of pages()) {
			const a = await anon.fetch(page);
			expect(a.status, page).toBe(303);
			expect(a.headers.get('location'), page).toMatch(/^\/login\?next=/);
			const s = await student.fetch(page);
			expect(s.status, page).toBe(403);
			expect(await s.text()).toContain('This area is for administrators.');
			expect((await admin.fetch(page)).status, page).toBe(200);
		}
	});

	it('form actions: refused with 401 and 403, and nothing changes', async () => {
		const actions: [string, Record<string, string>][] = [
			['/admin/content?/move', { kind: 'module', id: ids.module, direction: 'down' }],
			['/admin/content?/status', { kind: 'module', id: ids.module, status: 'draft' }],
			['/admin/content?/delete', { kind: 'module', id: ids.module }],
			['/admin/content/modules/new?/create', { title: 'X', slug: 'x', status: 'draft' }],
			[`/admin/content/modules/${ids.module}?/save`, { title: 'Hacked', slug: 'hacked' }],
			[`/admin/content/modules/${ids.module}?/delete`, {}],
			[`/admin/content/lessons/new?module=${ids.module}&/create`, { title: 'X' }],
			[`/admin/content/lessons/${ids.lesson}?/save`, { title: 'Hacked' }],
			[`/admin/content/lessons/${ids.lesson}?/deleteLesson`, {}],
			[
				`/admin/content/lessons/${ids.lesson}?/move`,
				{ kind: 'exercise', id: ids.exercise, direction: 'down' }
			],
			[`/admin/content/lessons/${ids.lesson}?/delete`, { kind: 'exercise', id: ids.exercise }],
			[`/admin/content/exercises/new?lesson=${ids.lesson}&/create`, { title: 'X' }],
			[`/admin/content/exercises/${ids.exercise}?/save`, { title: 'Hacked' }],
			[`/admin/content/exercises/${ids.exercise}?/delete`, {}]
		];
		const before = await exported(admin);
		for (const [action, fields] of actions) {
			expect((await anon.post(action, fields)).status, action).toBe(401);
			expect((await student.post(action, fields)).status, action).toBe(403);
		}
		expect(await exported(admin)).toEqual(before);
	});

	it('API endpoints: refused with 401 and 403', async () => {
		const endpoints: [string, RequestInit & { headers?: Record<string, string> }][] = [
			['/api/admin/content/export', {}],
			['/api/admin/content/export?pack=starter', {}],
			['/api/admin/content/import', { method: 'POST', body: new FormData() }],
			[
				`/api/admin/content/exercises/${ids.exercise}/verify`,
				{
					method: 'POST',
					body: JSON.stringify({ hash: 'a'.repeat(64) }),
					headers: { 'content-type': 'application/json' }
				}
			]
		];
		for (const [url, init] of endpoints) {
			expect((await anon.fetch(url, init)).status, url).toBe(401);
			expect((await student.fetch(url, init)).status, url).toBe(403);
		}
	});
});

describe('content packs through the server', () => {
	it('a pack with errors changes nothing and the answer names each error’s file and line', async () => {
		const before = await exported(admin);
		const files = await readPackDir(STARTER);
		files.set('01-values-and-types/module.md', '---\ntitle: Values\nstatus: sometimes\n---\n');
		const solution = [...files.keys()].find(
			(f) => f.startsWith('02-') && f.endsWith('/solution.py')
		)!;
		files.delete(solution);
		files.set('03-functions/extra/lesson.md', 'no frontmatter');
		const res = await upload(admin, zip(files));
		expect(res.status).toBe(400);
		const body = (await res.json()) as {
			message: string;
			errors: { file: string; line?: number }[];
		};
		expect(body.message).toMatch(/Nothing was changed/);
		const named = body.errors.map((e) => `${e.file}${e.line ? `:${e.line}` : ''}`);
		expect(named).toEqual(
			expect.arrayContaining(['01-values-and-types/module.md:3', solution, '03-functions/extra/'])
		);
		expect(await exported(admin)).toEqual(before);
	});

	it('refuses a file that is not a zip with 400, an empty form with 400', async () => {
		expect((await upload(admin, strToU8('hello'))).status).toBe(400);
		const empty = await admin.fetch('/api/admin/content/import', {
			method: 'POST',
			body: new FormData()
		});
		expect(empty.status).toBe(400);
	});

	it('imports a good pack and reports what it holds; exports the course and one pack', async () => {
		const files = new Map([
			['pack.md', '---\nslug: extra\ntitle: Extra pack\n---\nMore.\n'],
			['01-bonus/module.md', '---\ntitle: Bonus\nstatus: draft\n---\n'],
			['01-bonus/01-more/lesson.md', '---\ntitle: More\n---\nSome more.\n']
		]);
		const res = await upload(admin, zip(files));
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({
			pack: { slug: 'extra', title: 'Extra pack' },
			summary: { modules: 1, lessons: 1, exercises: 0 }
		});
		const one = await exported(admin, '?pack=extra');
		expect([...one.keys()].sort()).toEqual([
			'01-bonus/01-more/lesson.md',
			'01-bonus/module.md',
			'pack.md'
		]);
		const all = await exported(admin);
		const parsed = parsePack(all);
		expect(parsed.ok).toBe(true);
		if (parsed.ok) expect(parsed.pack.modules.map((m) => m.slug)).toContain('bonus');
		const download = await admin.fetch('/api/admin/content/export');
		expect(download.headers.get('content-type')).toBe('application/zip');
		expect(download.headers.get('content-disposition')).toMatch(
			/attachment; filename="course.zip"/
		);
		expect((await admin.fetch('/api/admin/content/export?pack=nothing-here')).status).toBe(404);
		expect((await admin.fetch('/api/admin/content/export?pack=../etc')).status).toBe(400);
	});

	it('refuses to publish a lesson with an unverified exercise, with the reason', async () => {
		// Post to the action the form names, as a browser without JavaScript would.
		const formAction = async (page: string) => {
			const html = await (await admin.fetch(page)).text();
			const action = /<form[^>]+action="([^"]*create)"/.exec(html)![1]!.replace(/&amp;/g, '&');
			return (
				new URL(action, server.url + page).pathname + new URL(action, server.url + page).search
			);
		};
		const lesson = await admin.post(
			await formAction(`/admin/content/lessons/new?module=${ids.module}`),
			{
				title: 'Fresh',
				slug: 'fresh',
				summary: '',
				minutes: '5',
				body: 'Text.',
				status: 'draft'
			}
		);
		expect(lesson.status).toBe(303);
		const lessonId = /lessons\/([0-9a-f-]{36})/.exec(lesson.headers.get('location')!)![1]!;
		const exercise = await admin.post(
			await formAction(`/admin/content/exercises/new?lesson=${lessonId}`),
			{
				title: 'Fresh exercise',
				slug: 'fresh-exercise',
				difficulty: '1',
				prompt: 'Do it.',
				starterCode: '',
				solutionCode: 'x = 1\n',
				checks: 'def check_x():\n    assert x == 1\n'
			}
		);
		expect(exercise.status).toBe(303);
		const refused = await admin.post('/admin/content?/status', {
			kind: 'lesson',
			id: lessonId,
			status: 'published'
		});
		expect(refused.status).toBe(409);
		expect(await refused.text()).toContain('cannot be published yet');
		// A verification for content that is not what is stored is refused.
		const exerciseId = /exercises\/([0-9a-f-]{36})/.exec(exercise.headers.get('location')!)![1]!;
		const wrong = await admin.fetch(`/api/admin/content/exercises/${exerciseId}/verify`, {
			method: 'POST',
			body: JSON.stringify({ hash: 'b'.repeat(64) }),
			headers: { 'content-type': 'application/json' }
		});
		expect(wrong.status).toBe(409);
		// A bad form keeps what was typed.
		const bad = await admin.post(`/admin/content/lessons/${lessonId}?/save`, {
			title: 'Kept title',
			slug: 'Not A Slug',
			summary: '',
			minutes: '5',
			body: 'Kept body text.',
			status: 'draft'
		});
		expect(bad.status).toBe(400);
		const html = await bad.text();
		expect(html).toContain('Use lower-case letters, digits and single dashes.');
		expect(html).toContain('Kept title');
		expect(html).toContain('Kept body text.');
	});
});

describe('audit log', () => {
	it.skipIf(!TEST_DATABASE_URL)('records the admin content actions taken above', async () => {
		const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
		try {
			const rows = await sql<{ action: string; actor_id: string | null }[]>`
				select action, actor_id from audit_log where action like 'content.%'`;
			const actions = new Set(rows.map((r) => r.action));
			for (const action of [
				'content.pack.import',
				'content.pack.import_rejected',
				'content.pack.export',
				'content.lesson.create',
				'content.exercise.create'
			])
				expect(actions, action).toContain(action);
			expect(rows.every((r) => r.actor_id)).toBe(true);
			// The refused attempts by students and anonymous visitors left no entry.
			expect(actions.has('content.module.delete')).toBe(false);
		} finally {
			await sql.end();
		}
	});
});

describe('content CLI (build/content.js) on PGlite', () => {
	const cli = (args: string[], dataDir: string) =>
		spawnSync(process.execPath, [path.join(ROOT, 'build', 'content.js'), ...args], {
			cwd: ROOT,
			env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir },
			encoding: 'utf8',
			timeout: 60_000
		});

	it('imports the starter, exports it identically, and refuses a bad pack changing nothing', async () => {
		const work = mkdtempSync(path.join(tmpdir(), 'tutor-cli-'));
		try {
			const dataDir = path.join(work, 'data');
			const imported = cli(['import', STARTER], dataDir);
			expect(imported.stderr).toBe('');
			expect(imported.status).toBe(0);
			expect(imported.stdout).toMatch(
				/Imported “.+” \(starter\): 7 modules, 22 lessons, 23 exercises/
			);

			const out = path.join(work, 'out');
			const exportedRun = cli(['export', out, '--pack', 'starter'], dataDir);
			expect(exportedRun.status).toBe(0);
			const before = parsePack(await readPackDir(STARTER));
			const after = parsePack(await readPackDir(out));
			expect(after.ok && before.ok).toBe(true);
			if (after.ok && before.ok) expect(after.pack.modules).toEqual(before.pack.modules);

			// A bad pack: each error on stderr as file:line, exit 1, and the database unchanged.
			const bad = path.join(work, 'bad');
			mkdirSync(path.join(bad, '01-broken', '01-lesson'), { recursive: true });
			writeFileSync(path.join(bad, 'pack.md'), '---\nslug: starter\ntitle: Broken\n---\n');
			writeFileSync(
				path.join(bad, '01-broken', 'module.md'),
				'---\ntitle: Broken\nlevel: 3\n---\n'
			);
			writeFileSync(
				path.join(bad, '01-broken', '01-lesson', 'lesson.md'),
				'---\ntitle: [\n---\nx\n'
			);
			const refused = cli(['import', bad], dataDir);
			expect(refused.status).toBe(1);
			expect(refused.stderr).toContain('nothing was changed');
			expect(refused.stderr).toContain('01-broken/module.md:3: unknown field "level"');
			expect(refused.stderr).toMatch(/01-broken\/01-lesson\/lesson\.md:\d+:/);

			const again = path.join(work, 'again');
			expect(cli(['export', again, '--pack', 'starter'], dataDir).status).toBe(0);
			expect(spawnSync('diff', ['-r', out, again]).status).toBe(0);
			expect(cli(['export', again], dataDir).status).toBe(1); // not empty
			expect(cli(['frobnicate', again], dataDir).status).toBe(2);
		} finally {
			rmSync(work, { recursive: true, force: true });
		}
	}, 120_000); // seven CLI runs, each opening PGlite: about 24 s alone, more beside other suites
});
