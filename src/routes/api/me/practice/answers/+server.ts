import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { Given } from '#lib/server/practice/grade.ts';
import * as questions from '#lib/server/practice/questions.ts';
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
 * Grades an answer on the server, stores it, moves the FSRS card, and returns the feedback. A
 * write-code answer is graded by running the question's checks in the server's Python runner.
 */
export const POST: RequestHandler = async ({ locals, request }) => {
	const body = await readJson(request, Body, 64_000);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const found = await questions.findQuestion(db, body.data.questionId);
	if (!found) error(404, 'There is no such question.');
	const userId = locals.user!.id;
	let given = body.data.given;
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
		given = { ...given, passed: verdict.status === 'checked' && verdict.result.passed };
	}
	const result = await questions.answer(db, userId, found.question, given, {
		timeMs: body.data.timeMs,
		mode: body.data.mode
	});
	return json(
		feedbackView(found.question, {
			answerId: result.answer.id,
			correct: result.correct,
			nextReview: result.card.due,
			dueCount: await questions.dueCount(db, userId)
		})
	);
};
