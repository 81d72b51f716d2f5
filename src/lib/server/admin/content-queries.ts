/**
 * What the content editor shows: the whole course as a tree with each lesson's unverified count,
 * and one module, lesson or exercise with its parents and verification state.
 *
 * @example
 * const found = await getLesson(db, id); // null when it was deleted
 * if (found) console.log(found.module.title, found.exercises.length);
 */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { exercises, lessons, modules, type ContentStatus } from '#lib/server/db/schema.ts';
import { checksHash, verification } from '#lib/server/learn/verification.ts';

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
