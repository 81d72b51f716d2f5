import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as course from '#lib/server/learn/course.ts';
import { readJson } from '#lib/server/http/json.ts';
import { CODE_MAX_CHARS } from '#lib/learn/limits.ts';
import type { RequestHandler } from './$types';

const SaveCode = v.object({ code: v.pipe(v.string(), v.maxLength(CODE_MAX_CHARS)) });

/** Autosave: the student's current code for an exercise (the lesson page sends it debounced). */
export const PUT: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), params.id)) error(404, 'No such exercise.');
	const body = await readJson(request, SaveCode, CODE_MAX_CHARS * 4 + 1024);
	if (!body.ok) return body.response;
	const db = locals.services.database.db;
	if (!(await course.findExercise(db, params.id))) error(404, 'No such exercise.');
	await course.saveCode(db, locals.user!.id, params.id, body.data.code);
	return json({ saved: true });
};
