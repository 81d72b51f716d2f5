import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as publish from '#lib/server/admin/content-publish.ts';
import * as audit from '#lib/server/audit.ts';
import { readJson } from '#lib/server/http/json.ts';
import type { RequestHandler } from './$types';

const Body = v.object({ hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)) });

/**
 * Records that the exercise's checks passed on its reference solution and failed on its starter in
 * the admin's browser. The hash names the saved content that was run; it must still match.
 */
export const POST: RequestHandler = async (event) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), event.params.id))
		return json({ message: 'No such exercise.' }, { status: 404 });
	const body = await readJson(event.request, Body, 1000);
	if (!body.ok) return body.response;
	const db = event.locals.services.database.db;
	const result = await publish.recordVerification(db, event.params.id, body.data.hash);
	if (!result.ok) return json({ message: result.message }, { status: result.status });
	await audit.recordAction(db, event, 'content.exercise.verify', event.params.id, {
		hash: body.data.hash
	});
	return json({ verified: true });
};
