/**
 * Authoring that never misleads students, on each database driver: an exercise added to or edited
 * in a published lesson stays hidden from students (lesson page, counts, attempts) until it is
 * verified, and a passing editor run of exactly the saved code verifies it with the save.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import * as edits from '../../src/lib/server/admin/content-edits.ts';
import * as publish from '../../src/lib/server/admin/content-publish.ts';
import * as course from '../../src/lib/server/learn/course.ts';
import { schema } from '../../src/lib/server/db/index.ts';
import { checksHash, hashAfterSave, PACK_PREFIX } from '../../src/lib/server/learn/verification.ts';
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

async function ok(saved: Promise<edits.Saved>) {
	const result = await saved;
	if (!result.ok) throw new Error(JSON.stringify(result.errors));
	return result.id;
}

describe('hashAfterSave (pure)', () => {
	const code = exerciseValues('a');
	const hash = checksHash(code);
	it('records a run of the saved code, keeps a matching hash, clears a stale one', () => {
		expect(hashAfterSave(null, code, code)).toBe(hash);
		expect(hashAfterSave(null, code, { ...code, checks: code.checks + '\n' })).toBeNull();
		expect(hashAfterSave(hash, code, null)).toBe(hash);
		expect(hashAfterSave(PACK_PREFIX + hash, code, null)).toBe(PACK_PREFIX + hash);
		expect(hashAfterSave(hash, { ...code, solutionCode: 'print("hi")\n' }, null)).toBeNull();
	});
});

describe.each(drivers)('exercise visibility on %s', (driver) => {
	let t: TestDatabase;
	let db: Db;
	let studentId: string;
	let lessonId: string;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		db = t.database.db;
		const [student] = await db
			.insert(schema.users)
			.values({ email: `stu-${driver}@example.com`, displayName: 'Stu', passwordHash: 'x' })
			.returning();
		studentId = student!.id;
		const [module] = await db
			.insert(schema.modules)
			.values({ slug: 'm', title: 'M', summary: '', body: '', status: 'published' })
			.returning();
		const [lesson] = await db
			.insert(schema.lessons)
			.values({
				moduleId: module!.id,
				slug: 'l',
				title: 'L',
				summary: '',
				body: 'Text.',
				status: 'published'
			})
			.returning();
		lessonId = lesson!.id;
	});
	afterAll(() => t?.drop());

	const visible = async () => {
		const page = await course.lessonPage(db, studentId, 'm', 'l');
		const [card] = await course.listModules(db, studentId);
		const lessons = (await course.moduleWithLessons(db, studentId, 'm'))!.lessons;
		// The lesson page, the module card and the lesson list agree.
		expect(card!.exercises).toBe(page!.exercises.length);
		expect(lessons[0]!.exercises).toBe(page!.exercises.length);
		return page!.exercises.map((x) => x.slug);
	};

	it('hides an exercise added to a published lesson until its checks are verified', async () => {
		const values = exerciseValues('added');
		const id = await ok(edits.createExercise(db, lessonId, values));
		expect(await visible()).toEqual([]);
		expect(await course.findExercise(db, id)).toBeNull();
		// An admin's preview still shows it.
		expect((await course.lessonPage(db, studentId, 'm', 'l', true))!.exercises).toHaveLength(1);

		expect(await publish.recordVerification(db, id, checksHash(values))).toEqual({ ok: true });
		expect(await visible()).toEqual(['added']);
		expect(await course.findExercise(db, id)).not.toBeNull();
	});

	it('hides an edited exercise again until verified; a run of the saved code verifies it on save', async () => {
		const [row] = await db
			.select()
			.from(schema.exercises)
			.where(eq(schema.exercises.slug, 'added'));
		const values = exerciseValues('added');
		// A title change keeps the verification.
		await ok(edits.updateExercise(db, row!.id, { ...values, title: 'Renamed' }));
		expect(await visible()).toEqual(['added']);
		// New checks: hidden again.
		const edited = { ...values, checks: values.checks + '\ndef check_more():\n    assert True\n' };
		await ok(edits.updateExercise(db, row!.id, edited));
		expect(await visible()).toEqual([]);
		// A run of other code (edited after the run) does not verify it.
		await ok(edits.updateExercise(db, row!.id, edited, values));
		expect(await visible()).toEqual([]);
		// The editor's passing run of exactly this code, sent with the save: verified, no second run.
		await ok(edits.updateExercise(db, row!.id, edited, edited));
		expect(await visible()).toEqual(['added']);

		// Created with a passing run of its code: visible straight away.
		const fresh = exerciseValues('fresh');
		await ok(edits.createExercise(db, lessonId, fresh, fresh));
		expect(await visible()).toEqual(['added', 'fresh']);
	});

	it('hides an exercise whose stored hash went stale outside the editor (older data)', async () => {
		const [row] = await db
			.select()
			.from(schema.exercises)
			.where(eq(schema.exercises.slug, 'fresh'));
		// A change written straight to the table keeps the old hash, as saves before this rule did.
		await db
			.update(schema.exercises)
			.set({ checks: row!.checks + '\n# changed\n' })
			.where(eq(schema.exercises.id, row!.id));
		const page = await course.lessonPage(db, studentId, 'm', 'l');
		expect(page!.exercises.map((x) => x.slug)).toEqual(['added']);
		expect(await course.findExercise(db, row!.id)).toBeNull();
		// Nothing server-only reaches the page.
		expect(Object.keys(page!.exercises[0]!)).not.toContain('solutionCode');
		expect(Object.keys(page!.exercises[0]!)).not.toContain('checksVerifiedHash');
	});
});
