/**
 * The skill diagnostic: a short adaptive test per skill area, and the student's stored levels.
 *
 * Method (a 1-up/1-down staircase with difficulty-weighted scoring):
 * - The test asks DIAGNOSTIC_LENGTH questions from the area's topics (any exam), never a write-code one.
 * - It starts at medium difficulty (2). A right answer moves the next question one step harder (up
 *   to 3), a wrong one one step easier (down to 1), so the questions settle around what the student
 *   can just about do.
 * - Score = the difficulty points of the right answers divided by the most possible (3 per question):
 *   a right answer to a hard question is worth 3, to an easy one 1, a wrong one 0. Because the
 *   staircase only offers hard questions after right answers, the score rewards both accuracy and
 *   the level reached.
 * - Level: score below 0.3 is beginner, below 0.6 intermediate, otherwise advanced. (A student who
 *   answers every medium question but no hard one scores about 0.33: intermediate. One who gets hard
 *   questions right about half the time scores about 0.6: advanced.)
 *
 * @example
 * const a = await startDiagnostic(db, userId, 'fundamentals');
 * const step = await answerDiagnostic(db, userId, a.id, { choice: 1 }, 4200);
 */
import { and, asc, desc, eq, inArray, ne, notInArray, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	questions,
	skillAssessments,
	skillLevels,
	topics,
	type SkillAssessment,
	type SkillLevel
} from '#lib/server/db/schema.ts';
import type { Given } from './grade';
import { answer } from './questions';

export const DIAGNOSTIC_LENGTH = 8;
export const START_DIFFICULTY = 2;
export const LEVEL_THRESHOLDS = { intermediate: 0.3, advanced: 0.6 } as const;
export const LEVELS: SkillLevel[] = ['beginner', 'intermediate', 'advanced'];

export const AREA_TITLES: Record<string, string> = {
	fundamentals: 'Python fundamentals',
	'data-structures': 'Data structures',
	'functions-errors': 'Functions and errors'
};
export const areaTitle = (area: string) => AREA_TITLES[area] ?? area.replace(/-/g, ' ');

type Step = SkillAssessment['steps'][number];

/** The next difficulty after an answer (the staircase). */
export function nextDifficulty(current: number, correct: boolean) {
	return Math.max(1, Math.min(3, current + (correct ? 1 : -1)));
}

/** Difficulty points earned over points possible, 0 to 1. */
export function scoreSteps(steps: { difficulty: number; correct: boolean | null }[]) {
	const done = steps.filter((s) => s.correct !== null);
	if (!done.length) return 0;
	return done.reduce((n, s) => n + (s.correct ? s.difficulty : 0), 0) / (3 * done.length);
}

export function levelFor(score: number): SkillLevel {
	if (score >= LEVEL_THRESHOLDS.advanced) return 'advanced';
	if (score >= LEVEL_THRESHOLDS.intermediate) return 'intermediate';
	return 'beginner';
}

/** The skill areas that have questions to ask. */
export async function listAreas(db: Db) {
	const rows = await db
		.selectDistinct({ area: topics.area })
		.from(topics)
		.innerJoin(questions, eq(questions.topicId, topics.id))
		.orderBy(asc(topics.area));
	return rows.map((r) => r.area);
}

async function pickAt(db: Db, area: string, difficulty: number, exclude: string[]) {
	// The wanted difficulty first, then the nearest ones.
	const [row] = await db
		.select({ id: questions.id, difficulty: questions.difficulty })
		.from(questions)
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.where(
			and(
				eq(topics.area, area),
				ne(questions.kind, 'code'),
				exclude.length ? notInArray(questions.id, exclude) : undefined
			)
		)
		.orderBy(sql`abs(${questions.difficulty} - ${difficulty})`, sql`random()`)
		.limit(1);
	return row ?? null;
}

export async function startDiagnostic(db: Db, userId: string, area: string) {
	const first = await pickAt(db, area, START_DIFFICULTY, []);
	if (!first) return null;
	const [row] = await db
		.insert(skillAssessments)
		.values({
			userId,
			area,
			steps: [{ questionId: first.id, difficulty: first.difficulty, correct: null }]
		})
		.returning();
	return row!;
}

export async function getDiagnostic(db: Db, userId: string, id: string) {
	const [row] = await db
		.select()
		.from(skillAssessments)
		.where(and(eq(skillAssessments.id, id), eq(skillAssessments.userId, userId)));
	return row ?? null;
}

/**
 * Grades the current step's answer, then either asks the next question or finishes: scores the
 * steps, stores the level for the area.
 */
export async function answerDiagnostic(
	db: Db,
	userId: string,
	id: string,
	given: Given,
	timeMs: number,
	now = new Date()
) {
	const assessment = await getDiagnostic(db, userId, id);
	if (!assessment || assessment.finishedAt) return null;
	const steps: Step[] = assessment.steps.map((s) => ({ ...s }));
	const current = steps[steps.length - 1]!;
	const [question] = await db.select().from(questions).where(eq(questions.id, current.questionId));
	if (!question) return null;
	const result = await answer(db, userId, question, given, { timeMs, mode: 'diagnostic', now });
	current.correct = result.correct;
	if (steps.length >= DIAGNOSTIC_LENGTH)
		return finish(db, userId, assessment.area, id, steps, now, result);
	const next = await pickAt(
		db,
		assessment.area,
		nextDifficulty(current.difficulty, result.correct),
		steps.map((s) => s.questionId)
	);
	if (next) steps.push({ questionId: next.id, difficulty: next.difficulty, correct: null });
	await db.update(skillAssessments).set({ steps }).where(eq(skillAssessments.id, id));
	// The area ran out of questions: finish early with what there is.
	if (!next) return finish(db, userId, assessment.area, id, steps, now, result);
	return { correct: result.correct, done: false as const, answerId: result.answer.id };
}

async function finish(
	db: Db,
	userId: string,
	area: string,
	id: string,
	steps: Step[],
	now: Date,
	result: { correct: boolean; answer: { id: string } }
) {
	const score = scoreSteps(steps);
	const level = levelFor(score);
	await db.transaction(async (tx) => {
		await tx
			.update(skillAssessments)
			.set({ steps, finishedAt: now, score, level })
			.where(eq(skillAssessments.id, id));
		await tx
			.insert(skillLevels)
			.values({ userId, area, level, assessmentId: id, assessedAt: now })
			.onConflictDoUpdate({
				target: [skillLevels.userId, skillLevels.area],
				set: { level, assessmentId: id, assessedAt: now }
			});
	});
	return { correct: result.correct, done: true as const, score, level, answerId: result.answer.id };
}

/** The student's level per skill area. */
export async function levelsOf(db: Db, userId: string) {
	return db
		.select()
		.from(skillLevels)
		.where(eq(skillLevels.userId, userId))
		.orderBy(desc(skillLevels.assessedAt));
}

/**
 * One level for the tutor: the average of the student's area levels (beginner 0, intermediate 1,
 * advanced 2), rounded down so explanations never assume more than the student showed. Null when
 * the student has taken no diagnostic.
 */
export async function overallLevel(db: Db, userId: string): Promise<SkillLevel | null> {
	const rows = await db
		.select({ level: skillLevels.level })
		.from(skillLevels)
		.where(eq(skillLevels.userId, userId));
	return levelOf(rows.map((r) => r.level));
}

/** The overall level from the levels per skill area (their mean, rounded down); null without any. */
export function levelOf(levels: SkillLevel[]): SkillLevel | null {
	if (!levels.length) return null;
	const mean = levels.reduce((n, level) => n + LEVELS.indexOf(level), 0) / levels.length;
	return LEVELS[Math.floor(mean + 1e-9)]!;
}

export async function questionsByIds(db: Db, ids: string[]) {
	if (!ids.length) return [];
	return db
		.select({ question: questions, topic: topics.title })
		.from(questions)
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.where(inArray(questions.id, ids));
}
