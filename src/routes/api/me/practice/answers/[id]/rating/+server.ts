import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { RATINGS } from '#lib/practice/types.ts';
import * as questions from '#lib/server/practice/questions.ts';
import * as review from '#lib/server/practice/review.ts';
import { readJson } from '#lib/server/http/json.ts';
import type { RequestHandler } from './$types';

const Body = v.object({ rating: v.picklist(RATINGS) });

/** The student's rating of one of their review answers: moves the card, once. */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), params.id))
		error(404, 'That review answer could not be found.');
	const body = await readJson(request, Body, 1_000);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const userId = locals.user!.id;
	const result = await review.rate(db, userId, params.id, body.data.rating);
	if (!result.ok) error(result.status, result.message);
	return json({
		nextReview: result.due.toISOString(),
		dueCount: await questions.dueCount(db, userId)
	});
};
