/**
 * Turns what a conversation stored about the student's place in the course (lesson and exercise
 * ids, their code, their last error) into the tutor's context, read fresh from the course, plus
 * the reference solution the answer must not reproduce while the exercise is unsolved.
 *
 * @example
 * const { context, solution } = await resolveContext(db, userId, conversation.context);
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '#lib/server/db/index.ts';
import { conversations, exercises, lessons, type SkillLevel } from '#lib/server/db/schema.ts';
import type { TutorContext } from '#lib/server/tutor/prompt.ts';
import { hasSolved } from './course';
import { overallLevel } from '#lib/server/practice/diagnostic.ts';
import { ownAnswer } from '#lib/server/practice/questions.ts';
import { expectedText, givenText, type Given } from '#lib/server/practice/grade.ts';

/** What a conversation stores in `conversations.context`. */
export const StoredContext = v.object({
	lessonId: v.optional(v.pipe(v.string(), v.uuid())),
	exerciseId: v.optional(v.pipe(v.string(), v.uuid())),
	code: v.optional(v.pipe(v.string(), v.maxLength(20_000))),
	lastError: v.optional(v.pipe(v.string(), v.maxLength(5_000))),
	level: v.optional(v.picklist(['beginner', 'intermediate', 'advanced'])),
	/** "Ask the tutor why" from practice: the student's answer (which names its question). */
	practiceAnswerId: v.optional(v.pipe(v.string(), v.uuid()))
});
export type StoredContext = v.InferOutput<typeof StoredContext>;

export interface ResolvedContext {
	context: TutorContext | null;
	/** The reference solution to guard, or null when there is nothing to hide. */
	solution: string | null;
	/** The lesson the conversation is about (response-cache entries go when it changes). */
	lessonId?: string | null;
	/** The exercise's starter code: code equal to it says nothing about the student. */
	starterCode?: string | null;
}

export async function resolveContext(
	db: Db,
	userId: string,
	stored: unknown,
	/** The student's overall level when already read (undefined: read it here). */
	knownLevel?: SkillLevel | null
): Promise<ResolvedContext> {
	const parsed = v.safeParse(StoredContext, stored ?? {});
	if (!parsed.success) return { context: null, solution: null };
	const s = parsed.output;
	// The level the student's diagnostics placed them at, unless the conversation fixed one.
	const level =
		s.level ??
		(knownLevel !== undefined ? knownLevel : await overallLevel(db, userId)) ??
		undefined;
	const context: TutorContext = { level, code: s.code, lastError: s.lastError };
	let solution: string | null = null;
	if (s.practiceAnswerId) {
		// Scoped to the student: another student's answer id resolves to nothing.
		const row = await ownAnswer(db, userId, s.practiceAnswerId);
		if (row)
			context.practice = {
				question: row.question.code
					? `${row.question.prompt}\n\n\`\`\`python\n${row.question.code}\`\`\``
					: row.question.prompt,
				options: row.question.options,
				given: givenText(row.question, row.answer.given as Given),
				expected: expectedText(row.question),
				wasRight: row.answer.correct,
				explanation: row.question.explanation
			};
		// An unsolved write-code question's reference solution stays out of the answer.
		if (row && row.question.kind === 'code' && !row.answer.correct)
			solution = row.question.solutionCode;
	}
	if (s.exerciseId) {
		const [row] = await db
			.select({ exercise: exercises, lesson: lessons })
			.from(exercises)
			.innerJoin(lessons, eq(lessons.id, exercises.lessonId))
			.where(eq(exercises.id, s.exerciseId));
		if (row) {
			const solved = await hasSolved(db, userId, row.exercise.id);
			context.lesson = { title: row.lesson.title, summary: row.lesson.summary };
			context.exercise = { title: row.exercise.title, prompt: row.exercise.prompt, solved };
			if (!solved) solution = row.exercise.solutionCode;
			return { context, solution, lessonId: row.lesson.id, starterCode: row.exercise.starterCode };
		}
	} else if (s.lessonId) {
		const [lesson] = await db.select().from(lessons).where(eq(lessons.id, s.lessonId));
		if (lesson) {
			context.lesson = { title: lesson.title, summary: lesson.summary };
			return { context, solution, lessonId: lesson.id };
		}
	}
	return { context, solution };
}

/**
 * "Ask the tutor" from a lesson: continues the student's latest conversation about the same lesson
 * and exercise (with their current code and error), or starts one. Returns its id.
 */
export async function askFromLesson(
	db: Db,
	userId: string,
	place: { lessonId: string; lessonTitle: string; exerciseId?: string; exerciseTitle?: string },
	work: { code?: string; lastError?: string }
): Promise<string> {
	const context: StoredContext = {
		lessonId: place.lessonId,
		exerciseId: place.exerciseId,
		code: work.code || undefined,
		lastError: work.lastError || undefined
	};
	const [existing] = await db
		.select({ id: conversations.id })
		.from(conversations)
		.where(
			and(
				eq(conversations.userId, userId),
				sql`${conversations.context}->>'lessonId' = ${place.lessonId}`,
				place.exerciseId
					? sql`${conversations.context}->>'exerciseId' = ${place.exerciseId}`
					: sql`${conversations.context}->>'exerciseId' is null`
			)
		)
		.orderBy(desc(conversations.updatedAt))
		.limit(1);
	if (existing) {
		await db
			.update(conversations)
			.set({ context, updatedAt: new Date() })
			.where(eq(conversations.id, existing.id));
		return existing.id;
	}
	const [created] = await db
		.insert(conversations)
		.values({
			userId,
			title: `Help: ${place.exerciseTitle ?? place.lessonTitle}`.slice(0, 120),
			context
		})
		.returning({ id: conversations.id });
	return created!.id;
}

/** "Ask the tutor why" from practice: a new conversation about one of the student's own answers. */
export async function askAboutAnswer(db: Db, userId: string, answerId: string) {
	const row = await ownAnswer(db, userId, answerId);
	if (!row) return null;
	const context: StoredContext = { practiceAnswerId: answerId };
	const firstLine = row.question.prompt.split('\n')[0]!.replace(/[`*_#]/g, '');
	const [created] = await db
		.insert(conversations)
		.values({ userId, title: `Why? ${firstLine}`.slice(0, 120), context })
		.returning({ id: conversations.id });
	return created!.id;
}
