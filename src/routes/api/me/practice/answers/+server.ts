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

/** Grades an answer on the server, stores it, moves the FSRS card, and returns the feedback. */
export const POST: RequestHandler = async ({ locals, request }) => {
	const body = await readJson(request, Body, 64_000);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const found = await questions.findQuestion(db, body.data.questionId);
	if (!found) error(404, 'There is no such question.');
	const userId = locals.user!.id;
	const result = await questions.answer(db, userId, found.question, body.data.given, {
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
