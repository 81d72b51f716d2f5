/**
 * Review with the student's own rating. A review answer is graded and stored like any other, but
 * its FSRS card waits: the page shows when the question would come back after each rating (Again,
 * Hard, Good, Easy) and the student picks one, which then moves the card. A daily cap
 * (`REVIEW_DAILY_LIMIT`) keeps the queue to a size a student can face; the rest waits for tomorrow.
 *
 * @example
 * const allowance = await review.allowance(db, userId, config.practice.reviewDailyLimit);
 * const due = await review.preview(db, userId, questionId); // { again: Date, hard: ..., ... }
 * await review.rate(db, userId, answerId, 'good');
 */
import { and, count, eq, gte } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { answers, questions, reviewCards } from '#lib/server/db/schema.ts';
import type { RatingName } from '#lib/practice/types.ts';
import { cardAfter, previewDue } from './fsrs';

const startOfUtcDay = (now: Date) =>
	new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

/** Review answers the student gave since midnight UTC, against the daily cap. */
export async function allowance(db: Db, userId: string, limit: number, now = new Date()) {
	const [row] = await db
		.select({ n: count() })
		.from(answers)
		.where(
			and(
				eq(answers.userId, userId),
				gte(answers.answeredAt, startOfUtcDay(now)),
				eq(answers.mode, 'review')
			)
		);
	const done = Number(row?.n ?? 0);
	return { done, limit, left: Math.max(0, limit - done) };
}

async function cardOf(db: Db, userId: string, questionId: string, lock = false) {
	const query = db
		.select()
		.from(reviewCards)
		.where(and(eq(reviewCards.userId, userId), eq(reviewCards.questionId, questionId)));
	const [row] = lock ? await query.for('update') : await query;
	return row ?? null;
}

/** When the question would come due after each rating, from the student's card as it is now. */
export async function preview(db: Db, userId: string, questionId: string, now = new Date()) {
	return previewDue(await cardOf(db, userId, questionId), now);
}

export type RateResult =
	{ ok: true; due: Date } | { ok: false; status: 404 | 409; message: string };

/**
 * Moves the card of a review answer by the student's rating. Only the student's own review answers
 * count, and each once: a card reviewed at or after the answer was already rated.
 */
export async function rate(
	db: Db,
	userId: string,
	answerId: string,
	rating: RatingName,
	now = new Date()
): Promise<RateResult> {
	return db.transaction(async (tx) => {
		const [found] = await tx
			.select({ answer: answers, kind: questions.kind })
			.from(answers)
			.innerJoin(questions, eq(questions.id, answers.questionId))
			.where(and(eq(answers.id, answerId), eq(answers.userId, userId)));
		if (!found || found.answer.mode !== 'review')
			return { ok: false, status: 404, message: 'That review answer could not be found.' };
		const row = await cardOf(tx, userId, found.answer.questionId, true);
		if (row?.lastReview && row.lastReview.getTime() >= found.answer.answeredAt.getTime())
			return { ok: false, status: 409, message: 'This review was already rated.' };
		const next = cardAfter(row, rating, now);
		await tx
			.insert(reviewCards)
			.values({ userId, questionId: found.answer.questionId, ...next })
			.onConflictDoUpdate({ target: [reviewCards.userId, reviewCards.questionId], set: next });
		return { ok: true, due: next.due };
	});
}
