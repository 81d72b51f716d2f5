import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { ratingName, ratingFor } from '#lib/server/practice/fsrs.ts';
import { Given } from '#lib/server/practice/grade.ts';
import * as questions from '#lib/server/practice/questions.ts';
import * as review from '#lib/server/practice/review.ts';
import { feedbackView } from '#lib/server/practice/view.ts';
import { readJson } from '#lib/server/http/json.ts';
import type { RequestHandler } from './$types';

const Body = v.object({
	questionId: v.pipe(v.string(), v.uuid()),
	given: Given,
	timeMs: v.pipe(v.number(), v.minValue(0), v.maxValue(86_400_000)),
	mode: v.picklist(['practice', 'review'])
});

/**
 * Grades an answer on the server, stores it and returns the feedback. A practice answer moves the
 * FSRS card; a review answer comes back with the next interval of each rating for the student to pick.
 * A write-code answer is graded by running the question's checks in the server's Python runner.
 */
export const POST: RequestHandler = async ({ locals, request }) => {
	const body = await readJson(request, Body, 64_000);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const userId = locals.user!.id;
	const { mode, given, timeMs } = body.data;
	if (mode === 'review') {
		const left = await review.allowance(
			db,
			userId,
			locals.services.config.practice.reviewDailyLimit
		);
		if (!left.left) error(409, `You reached today's review limit (${left.limit}). More tomorrow.`);
	}
	const found = await questions.findQuestion(db, body.data.questionId);
	if (!found) error(404, 'There is no such question.');
	let graded = given;
	if (found.question.kind === 'code') {
		// The browser's `passed` is not believed: the server runs the question's checks itself.
		const verdict = await locals.services.python.check(
			userId,
			given.code ?? '',
			found.question.checks
		);
		if (verdict.status === 'busy')
			return json(
				{ message: verdict.message },
				{
					status: verdict.scope === 'user' ? 429 : 503,
					headers: { 'retry-after': String(verdict.retryAfterSeconds) }
				}
			);
		graded = { ...given, passed: verdict.status === 'checked' && verdict.result.passed };
	}
	const now = new Date();
	const ratings =
		mode === 'review' ? await review.preview(db, userId, found.question.id, now) : null;
	const result = await questions.answer(db, userId, found.question, graded, {
		timeMs,
		mode,
		now
	});
	return json(
		feedbackView(found.question, {
			answerId: result.answer.id,
			correct: result.correct,
			nextReview: result.card?.due ?? null,
			dueCount: await questions.dueCount(db, userId),
			given: graded,
			ratings,
			suggested: ratings
				? ratingName(ratingFor({ correct: result.correct, timeMs, kind: found.question.kind }))
				: null
		})
	);
};
