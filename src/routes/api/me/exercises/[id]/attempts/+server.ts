import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as course from '#lib/server/learn/course.ts';
import { readJson } from '#lib/server/http/json.ts';
import { CODE_MAX_CHARS } from '#lib/learn/limits.ts';
import type { AttemptResponse } from '#lib/learn/attempt.ts';
import type { RequestHandler } from './$types';

/**
 * What the browser sends: the code, plus what its own run showed (kept for older clients, never
 * believed: the server runs the checks itself).
 */
const Attempt = v.object({
	code: v.pipe(v.string(), v.maxLength(CODE_MAX_CHARS)),
	results: v.optional(
		v.pipe(
			v.array(v.object({ name: v.pipe(v.string(), v.maxLength(200)), passed: v.boolean() })),
			v.maxLength(50)
		)
	),
	error: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(5000))))
});

/**
 * A check run. The server runs the exercise's checks on the submitted code in its Python runner
 * (lib/server/python) and records the attempt with its own result: passed means the server's checks
 * all passed. When the runner's queue is full nothing is recorded and the answer says when to retry.
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), params.id)) error(404, 'No such exercise.');
	const body = await readJson(request, Attempt, CODE_MAX_CHARS * 4 + 16_384);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	const found = await course.findExercise(db, params.id);
	if (!found) error(404, 'No such exercise.');
	const { code } = body.data;
	const verdict = await locals.services.python.check(locals.user!.id, code, found.exercise.checks);
	if (verdict.status === 'busy')
		return json(
			{ message: verdict.message },
			{
				status: verdict.scope === 'user' ? 429 : 503,
				headers: { 'retry-after': String(verdict.retryAfterSeconds) }
			}
		);
	const answer: Omit<AttemptResponse, 'lessonComplete'> =
		verdict.status === 'checked'
			? {
					passed: verdict.result.passed,
					checks: verdict.result.checks,
					error: verdict.result.error
						? `${verdict.result.error.type}: ${verdict.result.error.message}`
						: null,
					stopped: null
				}
			: { passed: false, checks: [], error: verdict.message, stopped: verdict.message };
	const outcome = await course.recordAttempt(
		db,
		locals.user!.id,
		{ id: params.id, lessonId: found.lessonId },
		{
			code,
			passed: answer.passed,
			results: answer.checks.map((c) => ({ name: c.name, passed: c.passed })),
			error: answer.error
		}
	);
	return json({ ...answer, ...outcome } satisfies AttemptResponse);
};
