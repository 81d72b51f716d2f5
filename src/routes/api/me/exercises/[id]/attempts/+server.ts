import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as course from '#lib/server/learn/course.ts';
import { readJson } from '#lib/server/http/json.ts';
import { CODE_MAX_CHARS } from '#lib/learn/limits.ts';
import type { RequestHandler } from './$types';

const Attempt = v.object({
	code: v.pipe(v.string(), v.maxLength(CODE_MAX_CHARS)),
	results: v.pipe(
		v.array(v.object({ name: v.pipe(v.string(), v.maxLength(200)), passed: v.boolean() })),
		v.maxLength(50)
	),
	error: v.nullable(v.pipe(v.string(), v.maxLength(5000)))
});

/**
 * A check run. The checks run in the student's browser, so the server records what it is told:
 * passed means every check passed and there was at least one.
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), params.id)) error(404, 'No such exercise.');
	const body = await readJson(request, Attempt, CODE_MAX_CHARS * 4 + 16_384);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const found = await course.findExercise(db, params.id);
	if (!found) error(404, 'No such exercise.');
	const { results } = body.data;
	const passed = !body.data.error && results.length > 0 && results.every((r) => r.passed);
	const outcome = await course.recordAttempt(
		db,
		locals.user!.id,
		{ id: params.id, lessonId: found.lessonId },
		{ ...body.data, passed }
	);
	return json({ passed, ...outcome });
};
