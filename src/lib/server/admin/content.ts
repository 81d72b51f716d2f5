/**
 * The admin content editor's operations on modules, lessons and exercises: listing, creating,
 * editing, deleting, reordering, publishing (only once every exercise is verified) and recording a
 * verification. Input validation lives here too (valibot), so the routes stay thin.
 *
 * @example
 * const result = await content.setStatus(db, 'lesson', id, 'published');
 * if (!result.ok) console.log(result.message, result.unverified);
 */
import { and, asc, eq, inArray, max, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '../db';
import {
	coursePassages,
	exercises,
	lessons,
	modules,
	type ContentStatus,
	type Exercise
} from '../db/schema';
import { indexLesson } from '../learn/content';
import { PACK_LIMITS } from '../learn/pack';
import { checksHash, verification } from '../learn/verification';
import { invalidateLesson } from '../cost/cache';
import { passagesChanged } from '../tutor/passage-index';

export type Kind = 'module' | 'lesson' | 'exercise';

const slug = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(1, 'Enter a slug.'),
	v.maxLength(80, 'Keep the slug under 80 characters.'),
	v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'Use lower-case letters, digits and single dashes.')
);
const title = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(1, 'Enter a title.'),
	v.maxLength(200, 'Keep the title under 200 characters.')
);
const summary = v.pipe(
	v.string(),
	v.trim(),
	v.maxLength(1000, 'Keep the summary under 1000 characters.')
);
const markdown = (what: string, required = false) =>
	v.pipe(
		v.string(),
		v.transform((s) => s.replace(/\r\n?/g, '\n')),
		required ? v.check((s) => s.trim().length > 0, `Write the ${what}.`) : v.check(() => true),
		v.maxLength(
			PACK_LIMITS.fileBytes,
			`Keep the ${what} under ${PACK_LIMITS.fileBytes} characters.`
		)
	);
const code = (what: string, required = false) =>
	v.pipe(
		v.string(),
		v.transform((s) => s.replace(/\r\n?/g, '\n')),
		required ? v.check((s) => s.trim().length > 0, `Write the ${what}.`) : v.check(() => true),
		v.maxLength(100_000, `Keep the ${what} under 100000 characters.`)
	);
const status = v.picklist(['draft', 'published'], 'Choose draft or published.');

export const ModuleInput = v.object({
	title,
	slug,
	summary,
	body: markdown('introduction'),
	status
});
export const LessonInput = v.object({
	title,
	slug,
	summary,
	minutes: v.pipe(
		v.string(),
		v.regex(/^\d{1,3}$/, 'Enter whole minutes, 1 to 600.'),
		v.transform(Number),
		v.minValue(1, 'Enter whole minutes, 1 to 600.'),
		v.maxValue(600, 'Enter whole minutes, 1 to 600.')
	),
	body: markdown('lesson text', true),
	status
});
export const ExerciseInput = v.object({
	title,
	slug,
	difficulty: v.pipe(v.picklist(['1', '2', '3'], 'Choose a difficulty.'), v.transform(Number)),
	prompt: markdown('prompt', true),
	starterCode: code('starter code'),
	solutionCode: code('reference solution', true),
	checks: v.pipe(
		code('checks', true),
		v.regex(/^def check_\w+\s*\(/m, 'Define at least one check: a function named check_…'),
		v.check((s) => !/^\t/m.test(s), 'Indent the checks with spaces, not tabs.')
	)
});
export type ModuleValues = v.InferOutput<typeof ModuleInput>;
export type LessonValues = v.InferOutput<typeof LessonInput>;
export type ExerciseValues = v.InferOutput<typeof ExerciseInput>;

export type Parsed<T> =
	| { ok: true; values: T }
	| { ok: false; values: Record<string, string>; errors: Record<string, string> };

/** Validates a form: the typed values, or the submitted text and one message per bad field. */
export function parse<S extends v.GenericSchema>(
	schema: S,
	fields: string[],
	form: FormData
): Parsed<v.InferOutput<S>> {
	const raw: Record<string, string> = {};
	for (const name of fields) {
		const value = form.get(name);
		raw[name] = typeof value === 'string' ? value : '';
	}
	const result = v.safeParse(schema, raw);
	if (result.success) return { ok: true, values: result.output };
	const errors: Record<string, string> = {};
	for (const issue of result.issues) {
		const key = v.getDotPath(issue) ?? 'form';
		errors[key] ??= issue.message;
	}
	return { ok: false, values: raw, errors };
}

export type Saved = { ok: true; id: string } | { ok: false; errors: Record<string, string> };

const isUniqueViolation = (error: unknown) => {
	const e = error as { code?: string; cause?: { code?: string } };
	return e?.code === '23505' || e?.cause?.code === '23505';
};

// ---- reading ----

export interface TreeExercise {
	id: string;
	title: string;
	verified: boolean;
}
export interface TreeLesson {
	id: string;
	slug: string;
	title: string;
	status: ContentStatus;
	minutes: number;
	exercises: number;
	unverified: number;
}
export interface TreeModule {
	id: string;
	slug: string;
	title: string;
	status: ContentStatus;
	pack: string | null;
	lessons: TreeLesson[];
}

/** The whole course in order, for the content overview. */
export async function tree(db: Db): Promise<TreeModule[]> {
	const moduleRows = await db
		.select()
		.from(modules)
		.orderBy(asc(modules.position), asc(modules.slug));
	const lessonRows = await db
		.select({
			id: lessons.id,
			moduleId: lessons.moduleId,
			slug: lessons.slug,
			title: lessons.title,
			status: lessons.status,
			minutes: lessons.minutes
		})
		.from(lessons)
		.orderBy(asc(lessons.position), asc(lessons.slug));
	const exerciseRows = await db
		.select({
			lessonId: exercises.lessonId,
			starterCode: exercises.starterCode,
			solutionCode: exercises.solutionCode,
			checks: exercises.checks,
			checksVerifiedHash: exercises.checksVerifiedHash
		})
		.from(exercises);
	return moduleRows.map((m) => ({
		id: m.id,
		slug: m.slug,
		title: m.title,
		status: m.status,
		pack: m.pack,
		lessons: lessonRows
			.filter((l) => l.moduleId === m.id)
			.map((l) => {
				const own = exerciseRows.filter((x) => x.lessonId === l.id);
				return {
					id: l.id,
					slug: l.slug,
					title: l.title,
					status: l.status,
					minutes: l.minutes,
					exercises: own.length,
					unverified: own.filter((x) => !verification(x)).length
				};
			})
	}));
}

export async function getModule(db: Db, id: string) {
	const [row] = await db.select().from(modules).where(eq(modules.id, id));
	return row ?? null;
}

export async function getLesson(db: Db, id: string) {
	const [row] = await db
		.select({
			lesson: lessons,
			module: { id: modules.id, title: modules.title, slug: modules.slug }
		})
		.from(lessons)
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(eq(lessons.id, id));
	if (!row) return null;
	const exerciseRows = await db
		.select()
		.from(exercises)
		.where(eq(exercises.lessonId, id))
		.orderBy(asc(exercises.position), asc(exercises.slug));
	return {
		...row,
		exercises: exerciseRows.map((x) => ({
			id: x.id,
			slug: x.slug,
			title: x.title,
			difficulty: x.difficulty,
			verification: verification(x)
		}))
	};
}

export async function getExercise(db: Db, id: string) {
	const [row] = await db
		.select({
			exercise: exercises,
			lesson: { id: lessons.id, title: lessons.title, slug: lessons.slug },
			module: { id: modules.id, title: modules.title, slug: modules.slug }
		})
		.from(exercises)
		.innerJoin(lessons, eq(lessons.id, exercises.lessonId))
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(eq(exercises.id, id));
	if (!row) return null;
	return {
		...row,
		verification: verification(row.exercise),
		hash: checksHash(row.exercise)
	};
}

// ---- writing ----

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

export async function createExercise(
	db: Db,
	lessonId: string,
	values: ExerciseValues
): Promise<Saved> {
	try {
		const [row] = await db
			.insert(exercises)
			.values({ ...values, lessonId, position: await nextPosition(db, 'exercise', lessonId) })
			.returning({ id: exercises.id });
		return { ok: true, id: row!.id };
	} catch (error) {
		if (isUniqueViolation(error))
			return { ok: false, errors: { slug: 'Another exercise in this lesson uses this slug.' } };
		throw error;
	}
}

/**
 * Saves an exercise. Its verification is a hash of the solution and checks, so a change to either
 * leaves it unverified until the checks are run again; other fields keep it.
 */
export async function updateExercise(db: Db, id: string, values: ExerciseValues): Promise<Saved> {
	try {
		const updated = await db
			.update(exercises)
			.set({ ...values, updatedAt: new Date() })
			.where(eq(exercises.id, id))
			.returning({ id: exercises.id, lessonId: exercises.lessonId });
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

/** Why a save that asks for `wanted` may not publish (checked before anything is written). */
async function publishRefusal(
	db: Db,
	kind: 'module' | 'lesson',
	id: string,
	wanted: ContentStatus
) {
	if (wanted !== 'published') return null;
	const table = kind === 'module' ? modules : lessons;
	const [row] = await db.select({ status: table.status }).from(table).where(eq(table.id, id));
	if (!row || row.status === 'published') return null;
	const unverified = await unverifiedExercises(db, kind, id);
	return unverified.length ? refusalMessage(kind, unverified) : null;
}

function refusalMessage(kind: 'module' | 'lesson', unverified: { title: string }[]) {
	return `This ${kind} cannot be published yet: ${unverified.length} exercise${
		unverified.length === 1 ? ' has' : 's have'
	} checks that were not verified for the current solution (${unverified
		.map((u) => `“${u.title}”`)
		.join(', ')}). Open each one and use Run checks.`;
}

export type StatusResult =
	| { ok: true; changed: boolean }
	| { ok: false; message: string; unverified: { id: string; title: string; lesson: string }[] };

/** The exercises below a module or lesson whose checks are not verified for their current code. */
export async function unverifiedExercises(db: Db, kind: 'module' | 'lesson', id: string) {
	const rows = await db
		.select({
			id: exercises.id,
			title: exercises.title,
			lesson: lessons.title,
			starterCode: exercises.starterCode,
			solutionCode: exercises.solutionCode,
			checks: exercises.checks,
			checksVerifiedHash: exercises.checksVerifiedHash
		})
		.from(exercises)
		.innerJoin(lessons, eq(lessons.id, exercises.lessonId))
		.where(kind === 'module' ? eq(lessons.moduleId, id) : eq(lessons.id, id))
		.orderBy(asc(lessons.position), asc(exercises.position));
	return rows
		.filter((r) => !verification(r))
		.map((r) => ({ id: r.id, title: r.title, lesson: r.lesson }));
}

/**
 * Publishes or unpublishes a module or lesson. Publishing is refused while any exercise in it has
 * checks that were not verified for its current solution and checks.
 */
export async function setStatus(
	db: Db,
	kind: 'module' | 'lesson',
	id: string,
	status: ContentStatus
): Promise<StatusResult> {
	const table = kind === 'module' ? modules : lessons;
	const [row] = await db.select({ status: table.status }).from(table).where(eq(table.id, id));
	if (!row) return { ok: false, message: `This ${kind} no longer exists.`, unverified: [] };
	if (row.status === status) return { ok: true, changed: false };
	if (status === 'published') {
		const unverified = await unverifiedExercises(db, kind, id);
		if (unverified.length)
			return { ok: false, message: refusalMessage(kind, unverified), unverified };
	}
	await db.update(table).set({ status, updatedAt: new Date() }).where(eq(table.id, id));
	return { ok: true, changed: true };
}

export type VerifyResult = { ok: true } | { ok: false; status: 404 | 409; message: string };

/**
 * Records that the checks passed on the solution and failed on the starter in the admin's browser.
 * `hash` is what the browser ran (the page sent it with the saved content); it is only accepted when
 * the stored solution and checks still produce it.
 */
export async function recordVerification(db: Db, id: string, hash: string): Promise<VerifyResult> {
	return db.transaction(async (tx) => {
		const [row] = await tx
			.select({
				starterCode: exercises.starterCode,
				solutionCode: exercises.solutionCode,
				checks: exercises.checks
			})
			.from(exercises)
			.where(eq(exercises.id, id))
			.for('update');
		if (!row) return { ok: false, status: 404, message: 'This exercise no longer exists.' };
		if (checksHash(row) !== hash)
			return {
				ok: false,
				status: 409,
				message:
					'The saved starter, solution or checks changed since this run. Save your changes, then run the checks again.'
			};
		await tx
			.update(exercises)
			.set({ checksVerifiedHash: hash })
			.where(and(eq(exercises.id, id)));
		return { ok: true };
	});
}

export type { Exercise };
