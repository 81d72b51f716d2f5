/**
 * The content editor's writes: creating, saving, deleting and reordering modules, lessons and
 * exercises. New content starts as a draft; a save that asks to publish goes through the same rule
 * as publishing (content-publish.ts).
 *
 * @example
 * const saved = await createLesson(db, moduleId, values);
 * if (!saved.ok) console.log(saved.errors.slug); // 'Another lesson in this module uses this slug.'
 */
import { asc, eq, inArray, max, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { coursePassages, exercises, lessons, modules } from '#lib/server/db/schema.ts';
import { indexLesson } from '#lib/server/learn/content.ts';
import { invalidateLesson } from '#lib/server/cost/cache.ts';
import { passagesChanged } from '#lib/server/tutor/passage-index.ts';
import { hashAfterSave } from '#lib/server/learn/verification.ts';
import type { ExerciseValues, LessonValues, ModuleValues, readVerifiedRun } from './content-forms';
import { publishRefusal, setStatus } from './content-publish';

export type Kind = 'module' | 'lesson' | 'exercise';

type VerifiedRun = NonNullable<ReturnType<typeof readVerifiedRun>>;

export type Saved = { ok: true; id: string } | { ok: false; errors: Record<string, string> };

const isUniqueViolation = (error: unknown) => {
	const e = error as { code?: string; cause?: { code?: string } };
	return e?.code === '23505' || e?.cause?.code === '23505';
};

async function nextPosition(db: Db, kind: Kind, parentId?: string) {
	const table = kind === 'module' ? modules : kind === 'lesson' ? lessons : exercises;
	const where =
		kind === 'lesson'
			? eq(lessons.moduleId, parentId!)
			: kind === 'exercise'
				? eq(exercises.lessonId, parentId!)
				: undefined;
	const [row] = await db
		.select({ n: max(table.position) })
		.from(table)
		.where(where);
	return (row?.n ?? -1) + 1;
}

/** Creating content never publishes it: it starts as a draft whatever the form said. */
export async function createModule(db: Db, values: ModuleValues): Promise<Saved> {
	try {
		const [row] = await db
			.insert(modules)
			.values({
				...values,
				status: 'draft',
				position: await nextPosition(db, 'module')
			})
			.returning({ id: modules.id });
		return { ok: true, id: row!.id };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another module already uses this slug.' } };
		throw error;
	}
}

export async function updateModule(db: Db, id: string, values: ModuleValues): Promise<Saved> {
	const { status: wanted, ...rest } = values;
	const refusal = await publishRefusal(db, 'module', id, wanted);
	if (refusal) return { ok: false, errors: { status: refusal } };
	try {
		const updated = await db
			.update(modules)
			.set({ ...rest, updatedAt: new Date() })
			.where(eq(modules.id, id))
			.returning({ id: modules.id });
		if (!updated.length) return { ok: false, errors: { form: 'This module no longer exists.' } };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another module already uses this slug.' } };
		throw error;
	}
	const status = await setStatus(db, 'module', id, wanted);
	if (!status.ok) return { ok: false, errors: { status: status.message } };
	return { ok: true, id };
}

export async function createLesson(db: Db, moduleId: string, values: LessonValues): Promise<Saved> {
	try {
		return await db.transaction(async (tx) => {
			const [row] = await tx
				.insert(lessons)
				.values({
					...values,
					moduleId,
					status: 'draft',
					position: await nextPosition(tx, 'lesson', moduleId)
				})
				.returning({ id: lessons.id });
			await indexLesson(tx, { id: row!.id, title: values.title, body: values.body });
			return { ok: true as const, id: row!.id };
		});
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another lesson in this module uses this slug.' } };
		throw error;
	}
}

/** Saves a lesson and re-indexes its passages in the same transaction. */
export async function updateLesson(db: Db, id: string, values: LessonValues): Promise<Saved> {
	const { status: wanted, ...rest } = values;
	const refusal = await publishRefusal(db, 'lesson', id, wanted);
	if (refusal) return { ok: false, errors: { status: refusal } };
	try {
		const found = await db.transaction(async (tx) => {
			const updated = await tx
				.update(lessons)
				.set({ ...rest, updatedAt: new Date() })
				.where(eq(lessons.id, id))
				.returning({ id: lessons.id });
			if (!updated.length) return false;
			await indexLesson(tx, { id, title: values.title, body: values.body });
			return true;
		});
		if (!found) return { ok: false, errors: { form: 'This lesson no longer exists.' } };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another lesson in this module uses this slug.' } };
		throw error;
	}
	const status = await setStatus(db, 'lesson', id, wanted);
	if (!status.ok) return { ok: false, errors: { status: status.message } };
	return { ok: true, id };
}

/** `ran`: the code of a passing editor run, which verifies the exercise if it is what is saved. */
export async function createExercise(
	db: Db,
	lessonId: string,
	values: ExerciseValues,
	ran: VerifiedRun | null = null
): Promise<Saved> {
	try {
		const [row] = await db
			.insert(exercises)
			.values({
				...values,
				lessonId,
				position: await nextPosition(db, 'exercise', lessonId),
				checksVerifiedHash: hashAfterSave(null, values, ran)
			})
			.returning({ id: exercises.id });
		return { ok: true, id: row!.id };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another exercise in this lesson uses this slug.' } };
		throw error;
	}
}

/**
 * Saves an exercise. Its verification is a hash of the starter, solution and checks: a change to
 * any of them clears it (students stop seeing the exercise) unless `ran`, a passing editor run of
 * exactly the saved code, verifies it with the save; other fields keep it.
 */
export async function updateExercise(
	db: Db,
	id: string,
	values: ExerciseValues,
	ran: VerifiedRun | null = null
): Promise<Saved> {
	try {
		const updated = await db.transaction(async (tx) => {
			const [row] = await tx
				.select({ hash: exercises.checksVerifiedHash })
				.from(exercises)
				.where(eq(exercises.id, id))
				.for('update');
			if (!row) return [];
			return tx
				.update(exercises)
				.set({
					...values,
					checksVerifiedHash: hashAfterSave(row.hash, values, ran),
					updatedAt: new Date()
				})
				.where(eq(exercises.id, id))
				.returning({ id: exercises.id, lessonId: exercises.lessonId });
		});
		if (!updated.length) return { ok: false, errors: { form: 'This exercise no longer exists.' } };
		// Cached tutor answers about the lesson were written for the old exercise.
		await invalidateLesson(db, updated[0]!.lessonId);
		return { ok: true, id };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another exercise in this lesson uses this slug.' } };
		throw error;
	}
}

/** Deletes a module, lesson or exercise; the database cascades to children and progress. */
export async function remove(db: Db, kind: Kind, id: string) {
	return db.transaction(async (tx) => {
		const lessonIds =
			kind === 'module'
				? (await tx.select({ id: lessons.id }).from(lessons).where(eq(lessons.moduleId, id))).map(
						(l) => l.id
					)
				: kind === 'lesson'
					? [id]
					: [];
		const table = kind === 'module' ? modules : kind === 'lesson' ? lessons : exercises;
		const gone = await tx
			.delete(table)
			.where(eq(table.id, id))
			.returning({ id: table.id, title: table.title });
		if (gone.length && lessonIds.length) {
			await tx.delete(coursePassages).where(
				inArray(
					coursePassages.source,
					lessonIds.map((l) => `lesson:${l}`)
				)
			);
			passagesChanged();
		}
		return gone[0] ?? null;
	});
}

/**
 * Moves an item one place up or down among its siblings and renumbers them all 0..n-1 in one
 * transaction (a row lock on the parent keeps two admins' moves from interleaving).
 */
export async function move(db: Db, kind: Kind, id: string, direction: 'up' | 'down') {
	return db.transaction(async (tx) => {
		let siblings: { id: string }[];
		if (kind === 'module') {
			await tx.execute(sql`select pg_advisory_xact_lock(72011003)`);
			siblings = await tx
				.select({ id: modules.id })
				.from(modules)
				.orderBy(asc(modules.position), asc(modules.slug));
		} else if (kind === 'lesson') {
			const [row] = await tx
				.select({ parent: lessons.moduleId })
				.from(lessons)
				.where(eq(lessons.id, id));
			if (!row) return false;
			await tx.execute(sql`select id from modules where id = ${row.parent} for update`);
			siblings = await tx
				.select({ id: lessons.id })
				.from(lessons)
				.where(eq(lessons.moduleId, row.parent))
				.orderBy(asc(lessons.position), asc(lessons.slug));
		} else {
			const [row] = await tx
				.select({ parent: exercises.lessonId })
				.from(exercises)
				.where(eq(exercises.id, id));
			if (!row) return false;
			await tx.execute(sql`select id from lessons where id = ${row.parent} for update`);
			siblings = await tx
				.select({ id: exercises.id })
				.from(exercises)
				.where(eq(exercises.lessonId, row.parent))
				.orderBy(asc(exercises.position), asc(exercises.slug));
		}
		const order = siblings.map((s) => s.id);
		const from = order.indexOf(id);
		if (from < 0) return false;
		const to = direction === 'up' ? from - 1 : from + 1;
		if (to < 0 || to >= order.length) return false;
		[order[from], order[to]] = [order[to]!, order[from]!];
		const table = kind === 'module' ? modules : kind === 'lesson' ? lessons : exercises;
		for (const [position, sibling] of order.entries())
			await tx.update(table).set({ position }).where(eq(table.id, sibling));
		return true;
	});
}
