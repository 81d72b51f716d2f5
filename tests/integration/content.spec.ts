/**
 * Content packs and course progress on each database driver: the starter curriculum loads once,
 * a re-import keeps students' progress, a pack with errors changes nothing and names each error's
 * file and line, export round-trips, and progress belongs to its student.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq, sql } from 'drizzle-orm';
import path from 'node:path';
import { schema } from '../../src/lib/server/db/index.ts';
import * as course from '../../src/lib/server/learn/course.ts';
import {
	exportPack,
	importPack,
	seedStarterContent,
	splitPassages
} from '../../src/lib/server/learn/content.ts';
import { packFiles, parsePack, readPackDir } from '../../src/lib/server/learn/pack.ts';
import { askFromLesson, resolveContext } from '../../src/lib/server/learn/tutor-context.ts';
import * as retrieval from '../../src/lib/server/tutor/retrieval.ts';
import { drivers, openTestDatabase, type TestDatabase, addUser } from '../helpers/db.ts';
import { testConfig } from '../helpers/config.ts';
import { createMockProvider } from '../../src/lib/server/ai/mock.ts';
import { TutorEngine } from '../../src/lib/server/tutor/engine.ts';
import { WITHHELD_NOTICE } from '../../src/lib/server/tutor/solution-guard.ts';

const STARTER = path.resolve(import.meta.dirname, '../../content/starter');

function tinyPack(): Map<string, string> {
	return new Map([
		['pack.md', '---\nslug: tiny\ntitle: Tiny pack\nversion: 2\n---\nA pack for tests.\n'],
		['01-basics/module.md', '---\ntitle: Basics\nsummary: The basics.\n---\n'],
		[
			'01-basics/01-hello/lesson.md',
			'---\ntitle: Hello\nsummary: Say hello.\nminutes: 5\n---\n## Printing\n\nUse `print` to show text.\n\n```python\nprint("hi")\n```\n'
		],
		[
			'01-basics/01-hello/01-greet/exercise.md',
			'---\ntitle: Greet\ndifficulty: 1\n---\nPrint hello.'
		],
		['01-basics/01-hello/01-greet/starter.py', '# print hello here\n'],
		['01-basics/01-hello/01-greet/solution.py', 'print("hello")\n'],
		[
			'01-basics/01-hello/01-greet/checks.py',
			'def check_prints():\n    """Prints hello"""\n    assert output.strip() == "hello", "Print the word hello."\n'
		],
		['01-basics/02-names/lesson.md', '---\ntitle: Names\n---\nNames point at values.\n']
	]);
}

/** Records a check run on the tiny pack's one exercise, passing or failing. */
function attempt(
	db: TestDatabase['database']['db'],
	userId: string,
	page: { lesson: { id: string }; exercises: { id: string }[] },
	code: string,
	passed: boolean
) {
	return course.recordAttempt(
		db,
		userId,
		{ id: page.exercises[0]!.id, lessonId: page.lesson.id },
		{ code, passed, results: [{ name: 'check_prints', passed }], error: null }
	);
}

describe('content pack parsing', () => {
	it('reads the starter curriculum without errors and round-trips through export', async () => {
		const parsed = parsePack(await readPackDir(STARTER));
		if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors.slice(0, 5)));
		expect(parsed.pack.modules.length).toBeGreaterThanOrEqual(6);
		const again = parsePack(packFiles(parsed.pack));
		expect(again.ok && again.pack).toEqual(parsed.pack);
	});

	it('reports every problem with its file and line', () => {
		const files = tinyPack();
		files.set('01-basics/module.md', '---\ntitle: Basics\nstatus: maybe\n---\n');
		files.set('01-basics/01-hello/lesson.md', '---\ntitle: [unclosed\n---\nText\n');
		files.delete('01-basics/01-hello/01-greet/solution.py');
		files.set('01-basics/01-hello/01-greet/checks.py', 'print("no checks")\n');
		files.set('01-basics/Bad Folder/lesson.md', '---\ntitle: X\n---\nx\n');
		const parsed = parsePack(files);
		expect(parsed.ok).toBe(false);
		const errors = parsed.ok ? [] : parsed.errors;
		const at = (file: string) => errors.filter((e) => e.file === file);
		expect(at('01-basics/module.md')).toEqual([
			expect.objectContaining({ line: 3, message: expect.stringContaining('status') })
		]);
		expect(at('01-basics/01-hello/lesson.md')[0]?.line).toBe(2);
		expect(at('01-basics/01-hello/01-greet/solution.py')[0]?.message).toBe('file is missing');
		expect(at('01-basics/01-hello/01-greet/checks.py')[0]?.message).toMatch(/no check/);
		expect(at('01-basics/Bad Folder/')[0]?.message).toMatch(/folder names/);
	});

	it('accepts a pack uploaded inside one top folder and ignores hidden files', () => {
		const nested = new Map([...tinyPack()].map(([k, v]) => [`tiny/${k}`, v]));
		nested.set('tiny/.DS_Store', 'junk');
		const parsed = parsePack(nested);
		expect(parsed.ok).toBe(true);
	});

	it('splits lessons into passages without cutting a code example', () => {
		const code = '```python\n' + 'x = 1\n\n'.repeat(200) + '```';
		const passages = splitPassages('L', `## One\n\nShort.\n\n## Two\n\n${code}\n\nAfter.`, 300);
		expect(passages[0]).toEqual({ title: 'L: One', body: 'Short.' });
		expect(passages.some((p) => p.body === code)).toBe(true);
	});
});

describe.each(drivers)('course content on %s', (driver) => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
	});
	afterAll(() => t?.drop());

	it('seeds the starter curriculum once, even when two servers start together', async () => {
		const db = t.database.db;
		const results = await Promise.all([
			seedStarterContent(db, STARTER),
			seedStarterContent(db, STARTER)
		]);
		expect(results.filter(Boolean)).toHaveLength(1);
		const [modules] = await db.select({ n: count() }).from(schema.modules);
		expect(modules!.n).toBeGreaterThanOrEqual(6);
		const passages = await retrieval.search(db, 'how does a while loop stop', 3);
		expect(passages.length).toBeGreaterThan(0);
		expect(await seedStarterContent(db, STARTER)).toBeNull();
	});

	it('tracks progress per student and keeps it across a re-import', async () => {
		const db = t.database.db;
		const parsed = parsePack(tinyPack());
		if (!parsed.ok) throw new Error('tiny pack invalid');
		await importPack(db, parsed.pack);
		const ann = await addUser(db, 'ann@example.com');
		const bob = await addUser(db, 'bob@example.com');

		const page = await course.lessonPage(db, ann.id, 'basics', 'hello');
		expect(page!.exercises).toHaveLength(1);
		const exercise = page!.exercises[0]!;
		expect(exercise).not.toHaveProperty('solutionCode');
		await course.saveCode(db, ann.id, exercise.id, 'print("hel")');
		const failed = await attempt(db, ann.id, page!, 'print("hel")', false);
		expect(failed.lessonComplete).toBe(false);
		const passed = await attempt(db, ann.id, page!, 'print("hello")', true);
		expect(passed.lessonComplete).toBe(true);

		// Bob sees none of Ann's work.
		const bobs = await course.lessonPage(db, bob.id, 'basics', 'hello');
		expect(bobs!.exercises[0]).toMatchObject({ code: null, attempts: 0, passed: false });

		// A re-import with an edited prompt keeps Ann's code and pass.
		const edited = tinyPack();
		edited.set('01-basics/01-hello/01-greet/exercise.md', '---\ntitle: Greet\n---\nPrint hello!');
		const again = parsePack(edited);
		if (!again.ok) throw new Error('edited pack invalid');
		await importPack(db, again.pack);
		const after = await course.lessonPage(db, ann.id, 'basics', 'hello');
		expect(after!.exercises[0]).toMatchObject({
			id: exercise.id,
			prompt: 'Print hello!',
			code: 'print("hello")',
			attempts: 2,
			passed: true
		});
		const modules = await course.listModules(db, ann.id);
		expect(modules.find((m) => m.slug === 'basics')).toMatchObject({
			lessons: 2,
			lessonsDone: 1,
			exercises: 1,
			exercisesPassed: 1
		});
		expect(await course.continueLesson(db, ann.id)).toMatchObject({
			moduleSlug: 'basics',
			lessonSlug: 'hello',
			started: true
		});
	});

	it('exports what it imported', async () => {
		const parsed = parsePack(tinyPack());
		if (!parsed.ok) throw new Error('tiny pack invalid');
		await importPack(t.database.db, parsed.pack);
		const exported = await exportPack(
			t.database.db,
			{ slug: 'tiny', title: 'Tiny pack', version: '2', description: 'A pack for tests.' },
			{ pack: 'tiny' }
		);
		expect(exported).toEqual(parsed.pack);
	});

	it('gives the tutor the lesson and guards the solution until the student solves it', async () => {
		const db = t.database.db;
		const cara = await addUser(db, 'cara@example.com');
		const page = await course.lessonPage(db, cara.id, 'basics', 'hello');
		const exercise = page!.exercises[0]!;
		const id = await askFromLesson(
			db,
			cara.id,
			{
				lessonId: page!.lesson.id,
				lessonTitle: 'Hello',
				exerciseId: exercise.id,
				exerciseTitle: 'Greet'
			},
			{ code: 'print(hello)', lastError: "NameError: name 'hello' is not defined" }
		);
		// Asking again continues the same conversation with the newer code.
		const again = await askFromLesson(
			db,
			cara.id,
			{
				lessonId: page!.lesson.id,
				lessonTitle: 'Hello',
				exerciseId: exercise.id,
				exerciseTitle: 'Greet'
			},
			{ code: 'print("hell")' }
		);
		expect(again).toBe(id);
		const [row] = await db
			.select()
			.from(schema.conversations)
			.where(eq(schema.conversations.id, id));
		const unsolved = await resolveContext(db, cara.id, row!.context);
		expect(unsolved.context).toMatchObject({
			lesson: { title: 'Hello' },
			exercise: { title: 'Greet', solved: false },
			code: 'print("hell")'
		});
		expect(unsolved.solution).toBe('print("hello")\n');
		await attempt(db, cara.id, page!, 'print("hello")', true);
		const solved = await resolveContext(db, cara.id, row!.context);
		expect(solved.solution).toBeNull();
		expect(solved.context?.exercise?.solved).toBe(true);
		// Malformed stored context is ignored, never trusted.
		expect(await resolveContext(db, cara.id, { exerciseId: 'not-a-uuid' })).toEqual({
			context: null,
			solution: null
		});
	});

	it('an invalid import changes nothing', async () => {
		const db = t.database.db;
		const before = await db.execute(sql`select count(*)::int as n from exercises`);
		const bad = tinyPack();
		bad.set('01-basics/01-hello/lesson.md', '---\ntitle: Hello\nminutes: lots\n---\nText\n');
		const parsed = parsePack(bad);
		expect(parsed.ok).toBe(false);
		const after = await db.execute(sql`select count(*)::int as n from exercises`);
		expect(after).toEqual(before);
	});

	it('the tutor withholds code that reproduces an unsolved exercise, not after it is solved', async () => {
		const db = t.database.db;
		const engine = new TutorEngine({
			database: t.database,
			config: testConfig({ LLM_PROVIDER: 'mock', TUTOR_FLUSH_MS: '20', TUTOR_RATE_LIMIT: '1000' }),
			provider: createMockProvider({ tokenDelayMs: 1, tokenCount: 5 })
		});
		await engine.start();
		try {
			const dan = await addUser(db, 'dan@example.com');
			const page = await course.lessonPage(db, dan.id, 'basics', 'hello');
			const exercise = page!.exercises[0]!;
			const place = {
				lessonId: page!.lesson.id,
				lessonTitle: 'Hello',
				exerciseId: exercise.id,
				exerciseTitle: 'Greet'
			};
			const id = await askFromLesson(db, dan.id, place, { code: '# print hello here' });
			// A model that ignores the prompt and hands over the answer, renamed quote style and all.
			const giveaway =
				"[mock:say]Easy! Just write:\n\n```python\nprint('hello')  # done\n```\n\nWhat does print do?";
			const answer = async (clientId: string, text: string) => {
				expect(await engine.send(dan.id, id, clientId, text)).toEqual({ ok: true });
				for (let i = 0; i < 500; i++) {
					const [row] = await db
						.select()
						.from(schema.messages)
						.where(eq(schema.messages.conversationId, id))
						.orderBy(sql`${schema.messages.seq} desc`)
						.limit(1);
					if (row && row.role === 'assistant' && row.status !== 'streaming') return row;
					await new Promise((r) => setTimeout(r, 10));
				}
				throw new Error('no answer');
			};
			const withheld = await answer('c1', giveaway);
			expect(withheld.status).toBe('complete');
			expect(withheld.content).toContain(WITHHELD_NOTICE);
			expect(withheld.content).not.toContain("print('hello')");
			expect(withheld.content).toMatch(/^Easy! Just write:/);
			expect(withheld.content).toMatch(/What does print do\?$/);

			await attempt(db, dan.id, page!, 'print("hello")', true);
			const shown = await answer('c2', giveaway);
			expect(shown.content).toContain("print('hello')");
			expect(shown.content).not.toContain(WITHHELD_NOTICE);
		} finally {
			await engine.close(1000);
		}
	});
});
