import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { MAX_SEQ } from '#lib/ws/protocol.ts';
import * as convos from '#lib/server/tutor/conversations.ts';
import type { RequestHandler } from './$types';

const Query = v.object({
	id: v.pipe(v.string(), v.uuid()),
	before: v.pipe(
		v.string(),
		v.regex(/^\d{1,10}$/, 'before must be a sequence number'),
		v.transform(Number),
		v.minValue(1),
		v.maxValue(MAX_SEQ)
	)
});

/** The page of the student's conversation before a sequence number (scrolling up past a snapshot). */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const query = v.safeParse(Query, { id: params.id, before: url.searchParams.get('before') ?? '' });
	if (!query.success) error(400, query.issues[0].message);
	const page = await convos.earlier(
		locals.services.database.db,
		locals.user!.id,
		query.output.id,
		query.output.before
	);
	if (!page) error(404, 'No such conversation.');
	return json(page, { headers: { 'cache-control': 'no-store' } });
};
