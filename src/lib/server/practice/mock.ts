/**
 * Timed mock exams. Starting one draws N questions from an exam and fixes a deadline on the server;
 * responses are saved as the student goes and graded only at submission. A response that arrives
 * after the deadline (plus a short grace for the network) is refused, and an exam whose deadline has
 * passed is submitted with what was saved in time.
 *
 * Write-code questions are left out: their checks run in the browser, which a timed exam should not
 * depend on.
 *
 * @example
 * const mock = await startMock(db, userId, exam);
 * await saveResponse(db, userId, mock.id, questionId, { choice: 2 });
 * const result = await submitMock(db, userId, mock.id);
 */
import { and, count, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import {
	answers,
	mockExams,
	questions,
	topics,
	type Exam,
	type MockExam
} from '#lib/server/db/schema.ts';
import type { Given } from './grade';
import { grade, isBlank } from './grade';
import { updateCard } from './questions';

/** Responses arriving up to this long after the deadline still count (network latency). */
export const DEADLINE_GRACE_MS = 5_000;
export const MOCK_PAGE_SIZE = 20;

export class MockError extends Error {
	constructor(
		readonly status: 404 | 409,
		message: string
	) {
		super(message);
	}
}

export async function startMock(
	db: Db,
	userId: string,
	exam: Exam,
	options: { questions?: number; minutes?: number; now?: Date } = {}
) {
	const n = options.questions ?? exam.mockQuestions;
	const minutes = options.minutes ?? exam.mockMinutes;
	const now = options.now ?? new Date();
	const picked = await db
		.select({ id: questions.id })
		.from(questions)
		.where(and(eq(questions.examId, exam.id), ne(questions.kind, 'code')))
		.orderBy(sql`random()`)
		.limit(n);
	if (!picked.length) throw new MockError(409, 'This exam has no questions yet.');
	const [mock] = await db
		.insert(mockExams)
		.values({
			userId,
			examId: exam.id,
			questionIds: picked.map((p) => p.id),
			startedAt: now,
			deadlineAt: new Date(now.getTime() + minutes * 60_000),
			total: picked.length
		})
		.returning();
	return mock!;
}

/** The student's own mock exam, submitted first if its time ran out. */
export async function getMock(db: Db, userId: string, id: string, now = new Date()) {
	const [mock] = await db
		.select()
		.from(mockExams)
		.where(and(eq(mockExams.id, id), eq(mockExams.userId, userId)));
	if (!mock) return null;
	if (!mock.submittedAt && now.getTime() > mock.deadlineAt.getTime() + DEADLINE_GRACE_MS)
		return submitMock(db, userId, id, now);
	return mock;
}

export async function saveResponse(
	db: Db,
	userId: string,
	id: string,
	questionId: string,
	given: Given,
	now = new Date()
) {
	const mock = await getMock(db, userId, id, now);
	if (!mock) throw new MockError(404, 'This mock exam does not exist.');
	if (mock.submittedAt)
		throw new MockError(409, 'This mock exam is over: time is up or it was submitted.');
	if (!mock.questionIds.includes(questionId))
		throw new MockError(404, 'That question is not part of this exam.');
	await db
		.update(mockExams)
		.set({
			responses: sql`${mockExams.responses} || ${JSON.stringify({ [questionId]: given })}::jsonb`
		})
		.where(and(eq(mockExams.id, id), eq(mockExams.userId, userId)));
}

/**
 * Grades the saved responses, records them as answers (moving FSRS cards) and stores the score.
 * A question left blank scores nothing but is recorded as unanswered: it gets no answer row, so it
 * stays out of the answered count, the accuracy and the review queue.
 */
export async function submitMock(
	db: Db,
	userId: string,
	id: string,
	now = new Date()
): Promise<MockExam> {
	return db.transaction(async (tx) => {
		const [mock] = await tx
			.select()
			.from(mockExams)
			.where(and(eq(mockExams.id, id), eq(mockExams.userId, userId)))
			.for('update');
		if (!mock) throw new MockError(404, 'This mock exam does not exist.');
		if (mock.submittedAt) return mock;
		const timedOut = now.getTime() > mock.deadlineAt.getTime() + DEADLINE_GRACE_MS;
		const rows = await tx.select().from(questions).where(inArray(questions.id, mock.questionIds));
		let score = 0;
		// Each question takes an equal share of the exam's time for FSRS (never "Easy").
		const share = Math.round((mock.deadlineAt.getTime() - mock.startedAt.getTime()) / mock.total);
		for (const q of rows) {
			const given = (mock.responses[q.id] ?? null) as Given | null;
			if (isBlank(q, given)) continue;
			const correct = grade(q, given!).correct;
			if (correct) score++;
			await tx.insert(answers).values({
				userId,
				questionId: q.id,
				given,
				correct,
				timeMs: share,
				mode: 'mock',
				mockExamId: mock.id,
				answeredAt: now
			});
			await updateCard(tx, userId, q, correct, Number.MAX_SAFE_INTEGER, now);
		}
		const [done] = await tx
			.update(mockExams)
			.set({ submittedAt: now, score, timedOut })
			.where(eq(mockExams.id, mock.id))
			.returning();
		return done!;
	});
}

/** The questions of a mock exam with the student's graded answers (after submission). */
export async function mockReview(db: Db, userId: string, mock: MockExam) {
	const rows = await db
		.select({ question: questions, topic: topics.title })
		.from(questions)
		.innerJoin(topics, eq(topics.id, questions.topicId))
		.where(inArray(questions.id, mock.questionIds));
	const given = await db
		.select({ questionId: answers.questionId, correct: answers.correct, given: answers.given })
		.from(answers)
		.where(and(eq(answers.mockExamId, mock.id), eq(answers.userId, userId)));
	const byId = new Map(rows.map((r) => [r.question.id, r]));
	const answerOf = new Map(given.map((g) => [g.questionId, g]));
	return mock.questionIds
		.map((qid) => byId.get(qid))
		.filter((r) => r !== undefined)
		.map((r) => ({
			...r,
			answer: answerOf.get(r.question.id) ?? null,
			unanswered: !answerOf.has(r.question.id)
		}));
}

/** How many of a submitted mock exam's questions were left blank. */
export const unansweredCount = (review: { unanswered: boolean }[]) =>
	review.filter((r) => r.unanswered).length;

/** The student's mock exams, newest first, one page at a time. */
export async function listMocks(db: Db, userId: string, page = 1, pageSize = MOCK_PAGE_SIZE) {
	const [rows, [total]] = await Promise.all([
		db
			.select()
			.from(mockExams)
			.where(eq(mockExams.userId, userId))
			.orderBy(desc(mockExams.startedAt))
			.limit(pageSize)
			.offset((Math.max(1, page) - 1) * pageSize),
		db.select({ n: count() }).from(mockExams).where(eq(mockExams.userId, userId))
	]);
	return { rows, total: Number(total?.n ?? 0), page, pageSize };
}
