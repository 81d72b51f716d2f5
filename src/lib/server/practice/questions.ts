/**
 * The practice side of the question bank: exams and topics to choose from, the next questions for a
 * session (practice or due review), recording an answer (with its FSRS card), and the answer history.
 * Every query about answers or cards is scoped to one user.
 *
 * @example
 * const [q] = await questions.pick(db, userId, { examId, mode: 'practice', limit: 1 });
 * const result = await questions.answer(db, userId, q, { choice: 1 }, { timeMs: 5200, mode: 'practice' });
 */
import { and, asc, count, desc, eq, inArray, lte, notInArray, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	answers,
	exams,
	questions,
	reviewCards,
	topics,
	type Question,
	type QuestionKind
} from '#lib/server/db/schema.ts';
import { nextCard } from './fsrs';
import { grade, type Given } from './grade';

export type Mode = 'practice' | 'review' | 'mock' | 'diagnostic';

export async function listExams(db: Db) {
	const [examRows, topicRows, counts] = await Promise.all([
		db.select().from(exams).orderBy(asc(exams.position), asc(exams.title)),
		db.select().from(topics).orderBy(asc(topics.position)),
		db.select({ topicId: questions.topicId, n: count() }).from(questions).groupBy(questions.topicId)
	]);
	const n = new Map(counts.map((c) => [c.topicId, Number(c.n)]));
	return examRows.map((e) => ({
		...e,
		topics: topicRows
			.filter((t) => t.examId === e.id)
			.map((t) => ({ ...t, questions: n.get(t.id) ?? 0 })),
		questions: topicRows
			.filter((t) => t.examId === e.id)
			.reduce((s, t) => s + (n.get(t.id) ?? 0), 0)
	}));
}

export async function examBySlug(db: Db, slug: string) {
	const [exam] = await db.select().from(exams).where(eq(exams.slug, slug));
	return exam ?? null;
}

export async function findQuestion(db: Db, id: string) {
	const [row] = await db
		.select({ question: questions, topic: topics.title, exam: exams.title, examSlug: exams.slug })
		.from(questions)
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.innerJoin(exams, eq(exams.id, questions.examId))
		.where(eq(questions.id, id));
	return row ?? null;
}

/** A question as the browser may see it before answering: no key, no solution. */
export interface PublicQuestion {
	id: string;
	kind: QuestionKind;
	difficulty: number;
	topic: string;
	prompt: string;
	code: string;
	options: string[];
	starterCode: string;
	/** Write-code questions only: their checks run in the browser. */
	checks: string;
}

export function publicQuestion(q: Question, topic: string): PublicQuestion {
	return {
		id: q.id,
		kind: q.kind,
		difficulty: q.difficulty,
		topic,
		prompt: q.prompt,
		code: q.code,
		options: q.options,
		starterCode: q.kind === 'code' ? q.starterCode : '',
		checks: q.kind === 'code' ? q.checks : ''
	};
}

export interface PickOptions {
	examId?: string;
	topicIds?: string[];
	mode: 'practice' | 'review';
	/** Questions already seen in this session. */
	exclude?: string[];
	limit: number;
	now?: Date;
}

/**
 * Practice: questions the student has answered least come first, in random order. Review: the
 * student's cards that are due, most overdue first.
 */
export async function pick(db: Db, userId: string, options: PickOptions) {
	const where = and(
		options.examId ? eq(questions.examId, options.examId) : undefined,
		options.topicIds?.length ? inArray(questions.topicId, options.topicIds) : undefined,
		options.exclude?.length ? notInArray(questions.id, options.exclude) : undefined
	);
	if (options.mode === 'review') {
		return db
			.select({ question: questions, topic: topics.title })
			.from(reviewCards)
			.innerJoin(questions, eq(questions.id, reviewCards.questionId))
			.innerJoin(topics, eq(topics.id, questions.topicId))
			.where(
				and(eq(reviewCards.userId, userId), lte(reviewCards.due, options.now ?? new Date()), where)
			)
			.orderBy(asc(reviewCards.due))
			.limit(options.limit);
	}
	const answered = db
		.select({ questionId: answers.questionId, n: count().as('n') })
		.from(answers)
		.where(eq(answers.userId, userId))
		.groupBy(answers.questionId)
		.as('answered');
	return db
		.select({ question: questions, topic: topics.title })
		.from(questions)
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.leftJoin(answered, eq(answered.questionId, questions.id))
		.where(where)
		.orderBy(sql`coalesce(${answered.n}, 0)`, sql`random()`)
		.limit(options.limit);
}

/** How many of the student's review cards are due now (optionally in one exam). */
export async function dueCount(db: Db, userId: string, examId?: string, now = new Date()) {
	const [row] = await db
		.select({ n: count() })
		.from(reviewCards)
		.innerJoin(questions, eq(questions.id, reviewCards.questionId))
		.where(
			and(
				eq(reviewCards.userId, userId),
				lte(reviewCards.due, now),
				examId ? eq(questions.examId, examId) : undefined
			)
		);
	return Number(row?.n ?? 0);
}

/**
 * Stores an answer and moves the question's FSRS card. Grades on the server. A review answer leaves
 * the card to the student's own rating (`review.rate`), so its `card` is null.
 */
export async function answer(
	db: Db,
	userId: string,
	question: Question,
	given: Given,
	meta: { timeMs: number; mode: Mode; mockExamId?: string; now?: Date }
) {
	const now = meta.now ?? new Date();
	const { correct } = grade(question, given);
	return db.transaction(async (tx) => {
		const [saved] = await tx
			.insert(answers)
			.values({
				userId,
				questionId: question.id,
				given,
				correct,
				timeMs: Math.max(0, Math.min(Math.round(meta.timeMs), 3_600_000)),
				mode: meta.mode,
				mockExamId: meta.mockExamId,
				answeredAt: now
			})
			.returning();
		const card =
			meta.mode === 'review'
				? null
				: await updateCard(tx, userId, question, correct, meta.timeMs, now);
		return { answer: saved!, correct, card };
	});
}

export async function updateCard(
	db: Db,
	userId: string,
	question: Question,
	correct: boolean,
	timeMs: number,
	now: Date
) {
	const [row] = await db
		.select()
		.from(reviewCards)
		.where(and(eq(reviewCards.userId, userId), eq(reviewCards.questionId, question.id)))
		.for('update');
	const next = nextCard(row ?? null, { correct, timeMs, kind: question.kind }, now);
	await db
		.insert(reviewCards)
		.values({ userId, questionId: question.id, ...next })
		.onConflictDoUpdate({ target: [reviewCards.userId, reviewCards.questionId], set: next });
	return next;
}

/** One of the student's own answers (null for anyone else's). */
export async function ownAnswer(db: Db, userId: string, answerId: string) {
	const [row] = await db
		.select({ answer: answers, question: questions })
		.from(answers)
		.innerJoin(questions, eq(questions.id, answers.questionId))
		.where(and(eq(answers.id, answerId), eq(answers.userId, userId)));
	return row ?? null;
}

export const HISTORY_PAGE_SIZE = 25;

/** The student's answers, newest first, one page at a time. */
export async function history(db: Db, userId: string, page = 1, pageSize = HISTORY_PAGE_SIZE) {
	const [rows, [total]] = await Promise.all([
		db
			.select({
				id: answers.id,
				correct: answers.correct,
				mode: answers.mode,
				timeMs: answers.timeMs,
				answeredAt: answers.answeredAt,
				questionId: questions.id,
				prompt: questions.prompt,
				kind: questions.kind,
				topic: topics.title
			})
			.from(answers)
			.innerJoin(questions, eq(questions.id, answers.questionId))
			.innerJoin(topics, eq(topics.id, questions.topicId))
			.where(eq(answers.userId, userId))
			.orderBy(desc(answers.answeredAt))
			.limit(pageSize)
			.offset((Math.max(1, page) - 1) * pageSize),
		db.select({ n: count() }).from(answers).where(eq(answers.userId, userId))
	]);
	return { rows, total: Number(total?.n ?? 0), page, pageSize };
}
