import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { readJson } from '#lib/server/http/json.ts';
import {
	checkNotebook,
	getNotebook,
	saveNotebook,
	STUDENT_NOTEBOOK_MAX_BYTES
} from '#lib/server/learn/notebooks.ts';
import type { RequestHandler } from './$types';

const Slug = v.pipe(v.string(), v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/), v.maxLength(80));
const Save = v.object({ content: v.unknown() });
const noStore = { 'cache-control': 'no-store' };

/**
 * One module's notebook for the signed-in student: their own copy once they saved one, else the
 * course version. `?download=1` answers with the notebook file itself.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	if (!v.is(Slug, params.module)) error(404, 'No such notebook.');
	const user = locals.user!;
	const found = await getNotebook(
		locals.services.database.db,
		user.id,
		params.module,
		user.role === 'admin'
	);
	if (!found) error(404, 'No such notebook.');
	if (url.searchParams.get('download') === '1')
		return new Response(JSON.stringify(found.content, null, 1) + '\n', {
			headers: {
				...noStore,
				'content-type': 'application/x-ipynb+json',
				'content-disposition': `attachment; filename="${found.name}"`
			}
		});
	return json(found, { headers: noStore });
};

/** Saves the student's copy (the lab's autosave and Ctrl+S). Only the student's own copy changes. */
export const PUT: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(Slug, params.module)) error(404, 'No such notebook.');
	const body = await readJson(request, Save, STUDENT_NOTEBOOK_MAX_BYTES + 1024);
	if (!body.ok) return body.response;
	const checked = checkNotebook(body.data.content);
	if (!checked.ok)
		return json(
			{ message: `This is not a notebook the lab can save: ${checked.message}` },
			{ status: 422 }
		);
	const user = locals.user!;
	const saved = await saveNotebook(
		locals.services.database.db,
		user.id,
		params.module,
		checked.notebook,
		user.role === 'admin'
	);
	if (!saved) error(404, 'No such notebook.');
	const { content: _content, ...item } = saved;
	return json(item, { headers: noStore });
};
