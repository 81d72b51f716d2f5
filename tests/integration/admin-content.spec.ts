/**
 * The admin content editor's operations on each database driver: create and order, reorder with
 * renumbering, publishing refused until every exercise is verified, a verification hash refused once
 * the stored content changed, pack exercises verified by their pack, deletes cascading to lessons,
 * exercises, passages and progress, and zip import/export with all-or-nothing validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, count, eq, like } from 'drizzle-orm';
import { strToU8, zipSync, unzipSync, strFromU8 } from 'fflate';
import * as queries from '../../src/lib/server/admin/content-queries.ts';
import * as edits from '../../src/lib/server/admin/content-edits.ts';
import * as publish from '../../src/lib/server/admin/content-publish.ts';
import * as packs from '../../src/lib/server/admin/packs.ts';
import { schema } from '../../src/lib/server/db/index.ts';
import { PACK_LIMITS } from '../../src/lib/server/learn/pack.ts';
import { checksHash } from '../../src/lib/server/learn/verification.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

type Db = TestDatabase['database']['db'];

const exerciseValues = (slug: string) => ({
	title: `Exercise ${slug}`,
	slug,
	difficulty: 1,
	prompt: 'Print hello.',
	starterCode: '# print hello here\n',
	solutionCode: 'print("hello")\n',
	checks: 'def check_prints():\n    """Prints hello"""\n    assert output.strip() == "hello"\n'
});
const lessonValues = (slug: string, status: 'draft' | 'published' = 'draft') => ({
	title: `Lesson ${slug}`,
	slug,
	summary: '',
	minutes: 5,
	body: `## About ${slug}\n\nSome text about ${slug}.`,
	status
});
const moduleValues = (slug: string, status: 'draft' | 'published' = 'draft') => ({
	title: `Module ${slug}`,
	slug,
	summary: '',
	body: '',
	status
});

async function ok(saved: Promise<edits.Saved>) {
	const result = await saved;
	if (!result.ok) throw new Error(JSON.stringify(result.errors));
	return result.id;
}

function zip(files: Record<string, string>) {
	return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])));
}

const goodPack = {
	'p/pack.md': '---\nslug: zipped\ntitle: Zipped pack\n---\nFrom a zip.\n',
	'p/01-intro/module.md': '---\ntitle: Intro\nsummary: First steps.\n---\n',
	'p/01-intro/01-hello/lesson.md': '---\ntitle: Hello\n---\n## Hello\n\nSay hello.\n',
	'p/01-intro/01-hello/01-greet/exercise.md': '---\ntitle: Greet\n---\nPrint hello.\n',
	'p/01-intro/01-hello/01-greet/starter.py': '# here\n',
	'p/01-intro/01-hello/01-greet/solution.py': 'print("hello")\n',
	'p/01-intro/01-hello/01-greet/checks.py':
		'def check_prints():\n    """Prints hello"""\n    assert output.strip() == "hello"\n'
};

describe.each(drivers)('admin content on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;

	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
	});
	afterAll(async () => t?.drop());

	it('creates modules, lessons and exercises as drafts, in order, and rejects a duplicate slug', async () => {
		const a = await ok(edits.createModule(db, moduleValues('order-a', 'published')));
		const b = await ok(edits.createModule(db, moduleValues('order-b')));
		const tree = await queries.tree(db);
		const mine = tree.filter((m) => m.slug.startsWith('order-'));
		expect(mine.map((m) => m.id)).toEqual([a, b]);
		expect(mine.every((m) => m.status === 'draft')).toBe(true);
		const dup = await edits.createModule(db, moduleValues('order-a'));
		expect(dup).toEqual({ ok: false, errors: { slug: 'Another module already uses this slug.' } });
	});

	it('moves items up and down and renumbers their positions 0..n-1 in one go', async () => {
		const m = await ok(edits.createModule(db, moduleValues('reorder')));
		const ids = [];
		for (const s of ['one', 'two', 'three'])
			ids.push(await ok(edits.createLesson(db, m, lessonValues(s))));
		// A gap and a tie in the stored positions, as an older import could leave them.
		await db.update(schema.lessons).set({ position: 7 }).where(eq(schema.lessons.id, ids[2]!));
		expect(await edits.move(db, 'lesson', ids[2]!, 'up')).toBe(true);
		const rows = await db
			.select({ id: schema.lessons.id, position: schema.lessons.position })
			.from(schema.lessons)
			.where(eq(schema.lessons.moduleId, m))
			.orderBy(asc(schema.lessons.position));
		expect(rows.map((r) => r.id)).toEqual([ids[0], ids[2], ids[1]]);
		expect(rows.map((r) => r.position)).toEqual([0, 1, 2]);
		// Already first: nothing moves.
		expect(await edits.move(db, 'lesson', ids[0]!, 'up')).toBe(false);
		expect(await edits.move(db, 'lesson', ids[1]!, 'down')).toBe(false);
		const x1 = await ok(edits.createExercise(db, ids[0]!, exerciseValues('x1')));
		const x2 = await ok(edits.createExercise(db, ids[0]!, exerciseValues('x2')));
		expect(await edits.move(db, 'exercise', x2, 'up')).toBe(true);
		const lesson = await queries.getLesson(db, ids[0]!);
		expect(lesson!.exercises.map((x) => x.id)).toEqual([x2, x1]);
	});

	it('refuses to publish a lesson or module until every exercise is verified for its current code', async () => {
		const m = await ok(edits.createModule(db, moduleValues('verify-mod')));
		const l = await ok(edits.createLesson(db, m, lessonValues('verify-lesson')));
		const x = await ok(edits.createExercise(db, l, exerciseValues('verify-x')));

		const refused = await publish.setStatus(db, 'lesson', l, 'published');
		expect(refused.ok).toBe(false);
		if (!refused.ok) {
			expect(refused.unverified.map((u) => u.id)).toEqual([x]);
			expect(refused.message).toContain('Exercise verify-x');
		}
		expect((await publish.setStatus(db, 'module', m, 'published')).ok).toBe(false);
		// The editor's save with status "published" is refused too, and saves nothing.
		const save = await edits.updateLesson(db, l, {
			...lessonValues('verify-lesson', 'published'),
			title: 'Renamed'
		});
		expect(save.ok).toBe(false);
		if (!save.ok) expect(save.errors.status).toMatch(/cannot be published/);
		const [row] = await db.select().from(schema.lessons).where(eq(schema.lessons.id, l));
		expect(row!.status).toBe('draft');
		expect(row!.title).toBe('Lesson verify-lesson');

		const found = await queries.getExercise(db, x);
		expect(found!.verification).toBeNull();
		expect(await publish.recordVerification(db, x, found!.hash)).toEqual({ ok: true });
		expect((await queries.getExercise(db, x))!.verification).toBe('editor');
		expect(await publish.setStatus(db, 'lesson', l, 'published')).toEqual({
			ok: true,
			changed: true
		});
		expect(await publish.setStatus(db, 'module', m, 'published')).toEqual({
			ok: true,
			changed: true
		});

		// Changing the checks unverifies it: the lesson can be unpublished but not published again.
		await ok(
			edits.updateExercise(db, x, {
				...exerciseValues('verify-x'),
				checks: exerciseValues('x').checks + '\ndef check_more():\n    assert True\n'
			})
		);
		expect((await queries.getExercise(db, x))!.verification).toBeNull();
		expect((await publish.setStatus(db, 'lesson', l, 'draft')).ok).toBe(true);
		expect((await publish.setStatus(db, 'lesson', l, 'published')).ok).toBe(false);
		// A title-only edit keeps the verification.
		const again = await queries.getExercise(db, x);
		expect((await publish.recordVerification(db, x, again!.hash)).ok).toBe(true);
		await ok(
			edits.updateExercise(db, x, {
				...exerciseValues('verify-x'),
				title: 'New title',
				checks: again!.exercise.checks
			})
		);
		expect((await queries.getExercise(db, x))!.verification).toBe('editor');
	});

	it('rejects a verification hash once the stored solution, checks or starter changed', async () => {
		const m = await ok(edits.createModule(db, moduleValues('hash-mod')));
		const l = await ok(edits.createLesson(db, m, lessonValues('hash-lesson')));
		const x = await ok(edits.createExercise(db, l, exerciseValues('hash-x')));
		const ran = (await queries.getExercise(db, x))!.hash;
		await ok(
			edits.updateExercise(db, x, { ...exerciseValues('hash-x'), solutionCode: 'print("hi")\n' })
		);
		const late = await publish.recordVerification(db, x, ran);
		expect(late.ok).toBe(false);
		if (!late.ok) expect(late.status).toBe(409);
		const [row] = await db.select().from(schema.exercises).where(eq(schema.exercises.id, x));
		expect(row!.checksVerifiedHash).toBeNull();
		expect(
			(await publish.recordVerification(db, x, checksHash({ ...row!, starterCode: 'other' }))).ok
		).toBe(false);
		const missing = await publish.recordVerification(db, crypto.randomUUID(), ran);
		expect(missing).toMatchObject({ ok: false, status: 404 });
	});

	it('re-indexes a lesson’s passages when it is saved', async () => {
		const m = await ok(edits.createModule(db, moduleValues('index-mod')));
		const l = await ok(edits.createLesson(db, m, lessonValues('index-lesson')));
		const passages = () =>
			db
				.select({ body: schema.coursePassages.body })
				.from(schema.coursePassages)
				.where(eq(schema.coursePassages.source, `lesson:${l}`));
		expect((await passages()).map((p) => p.body)).toEqual(['Some text about index-lesson.']);
		await ok(
			edits.updateLesson(db, l, {
				...lessonValues('index-lesson'),
				body: '## Loops\n\nA while loop repeats.'
			})
		);
		expect((await passages()).map((p) => p.body)).toEqual(['A while loop repeats.']);
	});

	it('deletes a module with its lessons, exercises, passages and students’ progress', async () => {
		const m = await ok(edits.createModule(db, moduleValues('doomed')));
		const l = await ok(edits.createLesson(db, m, lessonValues('doomed-lesson')));
		const x = await ok(edits.createExercise(db, l, exerciseValues('doomed-x')));
		const [user] = await db
			.insert(schema.users)
			.values({ email: `doomed-${driver}@example.com`, displayName: 'D', passwordHash: 'x' })
			.returning();
		await db.insert(schema.exerciseProgress).values({ userId: user!.id, exerciseId: x, code: 'x' });
		await db.insert(schema.lessonProgress).values({ userId: user!.id, lessonId: l });

		const removed = await edits.remove(db, 'module', m);
		expect(removed?.title).toBe('Module doomed');
		const n = async (table: typeof schema.lessons | typeof schema.exercises, id: string) =>
			(await db.select({ n: count() }).from(table).where(eq(table.id, id)))[0]!.n;
		expect(await n(schema.lessons, l)).toBe(0);
		expect(await n(schema.exercises, x)).toBe(0);
		expect(
			(
				await db
					.select({ n: count() })
					.from(schema.coursePassages)
					.where(eq(schema.coursePassages.source, `lesson:${l}`))
			)[0]!.n
		).toBe(0);
		expect(
			(
				await db
					.select({ n: count() })
					.from(schema.exerciseProgress)
					.where(eq(schema.exerciseProgress.userId, user!.id))
			)[0]!.n
		).toBe(0);
		expect(
			(
				await db
					.select({ n: count() })
					.from(schema.lessonProgress)
					.where(eq(schema.lessonProgress.userId, user!.id))
			)[0]!.n
		).toBe(0);
		expect(await edits.remove(db, 'module', m)).toBeNull();
	});

	it('imports a zip: a bad one changes nothing and names each file; a good one counts as verified by its pack', async () => {
		const before = await packs.exportZip(db);
		const bad = await packs.importZip(
			db,
			zip({
				...goodPack,
				'p/01-intro/module.md': '---\ntitle: Intro\nstatus: maybe\n---\n',
				'p/01-intro/01-hello/01-greet/checks.py': 'print("no checks")\n'
			})
		);
		expect(bad.ok).toBe(false);
		if (!bad.ok) {
			expect(bad.status).toBe(400);
			expect(bad.errors).toEqual(
				expect.arrayContaining([
					expect.objectContaining({ file: '01-intro/module.md', line: 3 }),
					expect.objectContaining({ file: '01-intro/01-hello/01-greet/checks.py', line: 1 })
				])
			);
		}
		expect(
			(await db.select().from(schema.modules).where(eq(schema.modules.slug, 'intro'))).length
		).toBe(0);
		expect((await packs.exportZip(db)).bytes).toEqual(before.bytes);

		const good = await packs.importZip(db, zip(goodPack));
		expect(good).toMatchObject({
			ok: true,
			pack: { slug: 'zipped' },
			summary: { modules: 1, lessons: 1, exercises: 1 }
		});
		const [x] = await db.select().from(schema.exercises).where(eq(schema.exercises.slug, 'greet'));
		expect((await queries.getExercise(db, x!.id))!.verification).toBe('pack');
		const [lesson] = await db
			.select({ id: schema.lessons.id })
			.from(schema.lessons)
			.where(eq(schema.lessons.slug, 'hello'));
		// Editing its checks in the editor unverifies it.
		await ok(
			edits.updateExercise(db, x!.id, {
				title: x!.title,
				slug: x!.slug,
				difficulty: 1,
				prompt: x!.prompt,
				starterCode: x!.starterCode,
				solutionCode: x!.solutionCode,
				checks: x!.checks + '\n'
			})
		);
		expect((await publish.unverifiedExercises(db, 'lesson', lesson!.id)).length).toBe(1);

		const exported = await packs.exportZip(db, { pack: 'zipped' });
		const files = unzipSync(exported.bytes);
		expect(Object.keys(files)).toContain('zipped/01-intro/01-hello/01-greet/checks.py');
		expect(strFromU8(files['zipped/01-intro/01-hello/lesson.md']!)).toContain('Say hello.');
	});

	it('refuses zips over the limits and archives that are not zips', async () => {
		const big = packs.readZip(
			zip({ 'p/pack.md': 'x'.repeat(PACK_LIMITS.fileBytes + 1), 'p/a.md': 'a' })
		);
		expect(big).toMatchObject({ ok: false, status: 413 });
		const many: Record<string, string> = {};
		for (let i = 0; i <= PACK_LIMITS.files; i++) many[`p/f${i}.md`] = '';
		expect(packs.readZip(zip(many))).toMatchObject({ ok: false, status: 413 });
		expect(packs.readZip(strToU8('not a zip at all'))).toMatchObject({ ok: false, status: 400 });
		expect(
			(
				await db.select({ n: count() }).from(schema.modules).where(like(schema.modules.slug, 'f%'))
			)[0]!.n
		).toBe(0);
	});
});
