/**
 * What students read and do: published modules and lessons, their exercises (never the reference
 * solution), and each student's own progress. Every progress read and write takes the student's id.
 *
 * @example
 * const lesson = await course.lesson(db, user.id, 'functions', 'defining-functions');
 */
import { and, asc, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	exerciseProgress,
	exercises,
	lessonProgress,
	lessons,
	modules
} from '#lib/server/db/schema.ts';
import { isVerified } from './verification';

const published = (preview: boolean) =>
	preview ? undefined : and(eq(modules.status, 'published'), eq(lessons.status, 'published'));

/**
 * Students meet only verified exercises, even in a published lesson: one added or edited there stays
 * hidden until its checks are verified. A stored hash means verified for the current code, because
 * every save that changes the code clears a hash it no longer matches (admin/content-edits.ts).
 */
const visibleExercise = (preview: boolean) =>
	preview ? undefined : isNotNull(exercises.checksVerifiedHash);
/** A left join to the exercises a student can see (all of them in an admin's preview). */
const exerciseJoin = (preview: boolean) =>
	and(eq(exercises.lessonId, lessons.id), visibleExercise(preview));

export interface ModuleCard {
	id: string;
	slug: string;
	title: string;
	summary: string;
	status: string;
	lessons: number;
	lessonsDone: number;
	exercises: number;
	exercisesPassed: number;
}

/** Modules in order with the student's counts of finished lessons and passed exercises. */
export async function listModules(db: Db, userId: string, preview = false): Promise<ModuleCard[]> {
	const rows = await db
		.select({
			id: modules.id,
			slug: modules.slug,
			title: modules.title,
			summary: modules.summary,
			status: modules.status,
			lessons: sql<number>`count(distinct ${lessons.id})::int`,
			lessonsDone: sql<number>`count(distinct ${lessonProgress.lessonId}) filter (where ${lessonProgress.completedAt} is not null)::int`,
			exercises: sql<number>`count(distinct ${exercises.id})::int`,
			exercisesPassed: sql<number>`count(distinct ${exerciseProgress.exerciseId}) filter (where ${exerciseProgress.passedAt} is not null)::int`
		})
		.from(modules)
		.innerJoin(lessons, eq(lessons.moduleId, modules.id))
		.leftJoin(
			lessonProgress,
			and(eq(lessonProgress.lessonId, lessons.id), eq(lessonProgress.userId, userId))
		)
		.leftJoin(exercises, exerciseJoin(preview))
		.leftJoin(
			exerciseProgress,
			and(eq(exerciseProgress.exerciseId, exercises.id), eq(exerciseProgress.userId, userId))
		)
		.where(published(preview))
		.groupBy(modules.id)
		.orderBy(asc(modules.position), asc(modules.slug));
	return rows;
}

export interface LessonItem {
	id: string;
	slug: string;
	title: string;
	summary: string;
	minutes: number;
	exercises: number;
	exercisesPassed: number;
	completed: boolean;
}

/** One module with its lessons and the student's progress in each. */
export async function moduleWithLessons(db: Db, userId: string, slug: string, preview = false) {
	const [module] = await db
		.select()
		.from(modules)
		.where(and(eq(modules.slug, slug), preview ? undefined : eq(modules.status, 'published')));
	if (!module) return null;
	const items: LessonItem[] = await db
		.select({
			id: lessons.id,
			slug: lessons.slug,
			title: lessons.title,
			summary: lessons.summary,
			minutes: lessons.minutes,
			exercises: sql<number>`count(distinct ${exercises.id})::int`,
			exercisesPassed: sql<number>`count(distinct ${exerciseProgress.exerciseId}) filter (where ${exerciseProgress.passedAt} is not null)::int`,
			completed: sql<boolean>`bool_or(${lessonProgress.completedAt} is not null) is true`
		})
		.from(lessons)
		.leftJoin(
			lessonProgress,
			and(eq(lessonProgress.lessonId, lessons.id), eq(lessonProgress.userId, userId))
		)
		.leftJoin(exercises, exerciseJoin(preview))
		.leftJoin(
			exerciseProgress,
			and(eq(exerciseProgress.exerciseId, exercises.id), eq(exerciseProgress.userId, userId))
		)
		.where(
			and(eq(lessons.moduleId, module.id), preview ? undefined : eq(lessons.status, 'published'))
		)
		.groupBy(lessons.id)
		.orderBy(asc(lessons.position));
	return { module, lessons: items };
}

export interface ExerciseView {
	id: string;
	slug: string;
	title: string;
	difficulty: number;
	prompt: string;
	starterCode: string;
	checks: string;
	code: string | null;
	attempts: number;
	passed: boolean;
	lastResult: { name: string; passed: boolean }[] | null;
}

/** A lesson page: the lesson, its module, neighbours, and its exercises with the student's work. */
export async function lessonPage(
	db: Db,
	userId: string,
	moduleSlug: string,
	lessonSlug: string,
	preview = false
) {
	const found = await moduleWithLessons(db, userId, moduleSlug, preview);
	if (!found) return null;
	const index = found.lessons.findIndex((l) => l.slug === lessonSlug);
	if (index < 0) return null;
	const [lesson] = await db.select().from(lessons).where(eq(lessons.id, found.lessons[index]!.id));
	const rows = await db
		.select({
			id: exercises.id,
			slug: exercises.slug,
			title: exercises.title,
			difficulty: exercises.difficulty,
			prompt: exercises.prompt,
			starterCode: exercises.starterCode,
			checks: exercises.checks,
			// Read to check the verification exactly; never returned.
			solutionCode: exercises.solutionCode,
			checksVerifiedHash: exercises.checksVerifiedHash,
			code: exerciseProgress.code,
			attempts: sql<number>`coalesce(${exerciseProgress.attempts}, 0)`,
			passed: sql<boolean>`${exerciseProgress.passedAt} is not null`,
			lastResult: exerciseProgress.lastResult
		})
		.from(exercises)
		.leftJoin(
			exerciseProgress,
			and(eq(exerciseProgress.exerciseId, exercises.id), eq(exerciseProgress.userId, userId))
		)
		.where(and(eq(exercises.lessonId, lesson!.id), visibleExercise(preview)))
		.orderBy(asc(exercises.position));
	await db
		.insert(lessonProgress)
		.values({ userId, lessonId: lesson!.id })
		.onConflictDoUpdate({
			target: [lessonProgress.userId, lessonProgress.lessonId],
			set: { lastOpenedAt: new Date() }
		});
	return {
		module: found.module,
		lessons: found.lessons,
		lesson: lesson!,
		// Exact, even for a hash stored before saves cleared stale ones.
		exercises: rows
			.filter((r) => preview || isVerified(r))
			.map(({ solutionCode: _s, checksVerifiedHash: _h, ...r }) => r) as ExerciseView[],
		previous: found.lessons[index - 1] ?? null,
		next: found.lessons[index + 1] ?? null
	};
}

/** The exercise a student may work on (published and verified), or null. */
export async function findExercise(db: Db, exerciseId: string) {
	const [row] = await db
		.select({ exercise: exercises, lessonId: lessons.id, lessonTitle: lessons.title })
		.from(exercises)
		.innerJoin(lessons, eq(lessons.id, exercises.lessonId))
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(and(eq(exercises.id, exerciseId), published(false), visibleExercise(false)));
	return row && isVerified(row.exercise) ? row : null;
}

/** Autosave: the student's current code for an exercise. */
export async function saveCode(db: Db, userId: string, exerciseId: string, code: string) {
	await db
		.insert(exerciseProgress)
		.values({ userId, exerciseId, code })
		.onConflictDoUpdate({
			target: [exerciseProgress.userId, exerciseProgress.exerciseId],
			set: { code, updatedAt: new Date() }
		});
}

async function completeIfDone(db: Db, userId: string, lessonId: string) {
	const [row] = await db
		.select({
			total: sql<number>`count(*)::int`,
			passed: sql<number>`count(${exerciseProgress.passedAt})::int`
		})
		.from(exercises)
		.leftJoin(
			exerciseProgress,
			and(eq(exerciseProgress.exerciseId, exercises.id), eq(exerciseProgress.userId, userId))
		)
		.where(and(eq(exercises.lessonId, lessonId), visibleExercise(false)));
	const done = row!.total > 0 && row!.passed === row!.total;
	if (done) await markLessonComplete(db, userId, lessonId);
	return done;
}

/** A check run: counts the attempt, keeps the first pass, completes the lesson when all pass. */
export async function recordAttempt(
	db: Db,
	userId: string,
	exercise: { id: string; lessonId: string },
	attempt: {
		code: string;
		passed: boolean;
		results: { name: string; passed: boolean }[];
		error: string | null;
	}
) {
	const now = new Date();
	await db
		.insert(exerciseProgress)
		.values({
			userId,
			exerciseId: exercise.id,
			code: attempt.code,
			attempts: 1,
			passedAt: attempt.passed ? now : null,
			lastResult: attempt.results,
			lastError: attempt.error
		})
		.onConflictDoUpdate({
			target: [exerciseProgress.userId, exerciseProgress.exerciseId],
			set: {
				code: attempt.code,
				attempts: sql`${exerciseProgress.attempts} + 1`,
				passedAt: attempt.passed
					? sql`coalesce(${exerciseProgress.passedAt}, ${now.toISOString()}::timestamptz)`
					: sql`${exerciseProgress.passedAt}`,
				lastResult: attempt.results,
				lastError: attempt.error,
				updatedAt: now
			}
		});
	const lessonComplete = attempt.passed
		? await completeIfDone(db, userId, exercise.lessonId)
		: false;
	return { lessonComplete };
}

export async function markLessonComplete(db: Db, userId: string, lessonId: string) {
	await db
		.insert(lessonProgress)
		.values({ userId, lessonId, completedAt: new Date() })
		.onConflictDoUpdate({
			target: [lessonProgress.userId, lessonProgress.lessonId],
			set: { completedAt: sql`coalesce(${lessonProgress.completedAt}, now())` }
		});
}

/** Whether the student has passed an exercise's checks (the tutor may then discuss solutions). */
export async function hasSolved(db: Db, userId: string, exerciseId: string) {
	const [row] = await db
		.select({ at: exerciseProgress.passedAt })
		.from(exerciseProgress)
		.where(
			and(
				eq(exerciseProgress.userId, userId),
				eq(exerciseProgress.exerciseId, exerciseId),
				isNotNull(exerciseProgress.passedAt)
			)
		);
	return Boolean(row);
}

/** The lesson to continue: the last one opened, or the first lesson of the course. */
export async function continueLesson(db: Db, userId: string) {
	const select = {
		moduleSlug: modules.slug,
		moduleTitle: modules.title,
		lessonSlug: lessons.slug,
		lessonTitle: lessons.title
	};
	const [last] = await db
		.select(select)
		.from(lessonProgress)
		.innerJoin(lessons, eq(lessons.id, lessonProgress.lessonId))
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(and(eq(lessonProgress.userId, userId), published(false)))
		.orderBy(desc(lessonProgress.lastOpenedAt))
		.limit(1);
	if (last) return { ...last, started: true };
	const [first] = await db
		.select(select)
		.from(lessons)
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(published(false))
		.orderBy(asc(modules.position), asc(lessons.position))
		.limit(1);
	return first ? { ...first, started: false } : null;
}

/** Where a lesson lives, for links back to it (for example from a tutor conversation). */
export async function lessonLink(db: Db, lessonId: string) {
	const [row] = await db
		.select({ moduleSlug: modules.slug, lessonSlug: lessons.slug, title: lessons.title })
		.from(lessons)
		.innerJoin(modules, eq(modules.id, lessons.moduleId))
		.where(eq(lessons.id, lessonId));
	return row ? { href: `/learn/${row.moduleSlug}/${row.lessonSlug}`, title: row.title } : null;
}
