import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { resetNotebook } from '#lib/server/learn/notebooks.ts';
import type { RequestHandler } from './$types';

const Slug = v.pipe(v.string(), v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/), v.maxLength(80));

/** "Reset to the original": deletes the student's copy, so the course's current version opens. */
export const POST: RequestHandler = async ({ locals, params }) => {
	if (!v.is(Slug, params.module)) error(404, 'No such notebook.');
	const user = locals.user!;
	const reset = await resetNotebook(
		locals.services.database.db,
		user.id,
		params.module,
		user.role === 'admin'
	);
	if (!reset) error(404, 'No such notebook.');
	return json(reset, { headers: { 'cache-control': 'no-store' } });
};
