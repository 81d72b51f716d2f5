import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import { Given } from '#lib/server/practice/grade.ts';
import { MockError, saveResponse } from '#lib/server/practice/mock.ts';
import { readJson } from '#lib/server/http/json.ts';
import type { RequestHandler } from './$types';

const Body = v.object({ questionId: v.pipe(v.string(), v.uuid()), given: Given });

/** Saves one response of a running mock exam (graded only at submission); 409 once time is up. */
export const PUT: RequestHandler = async ({ locals, params, request }) => {
	if (!v.is(v.pipe(v.string(), v.uuid()), params.id)) error(404, 'This mock exam does not exist.');
	const body = await readJson(request, Body, 32_000);
	if (!body.ok) return body.response;
	try {
		await saveResponse(
			locals.services.database.db,
			locals.user!.id,
			params.id,
			body.data.questionId,
			body.data.given
		);
	} catch (e) {
		if (e instanceof MockError) return Response.json({ message: e.message }, { status: e.status });
		throw e;
	}
	return new Response(null, { status: 204 });
};
