import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import * as cache from '#lib/server/cost/cache.ts';
import type { RequestHandler } from './$types';

const Days = v.pipe(
	v.optional(v.string(), '30'),
	v.regex(/^\d{1,3}$/),
	v.transform(Number),
	v.minValue(1),
	v.maxValue(365)
);

/** Response cache figures: entries, hit rate, tokens and dollars saved (`?days=`, default 30). */
export const GET: RequestHandler = async ({ locals, url }) => {
	const days = v.safeParse(Days, url.searchParams.get('days') ?? undefined);
	if (!days.success)
		return json(
			{ error: 'bad_request', message: 'days must be a whole number from 1 to 365' },
			{ status: 400 }
		);
	return json(await cache.stats(locals.services.database.db, days.output), {
		headers: { 'cache-control': 'no-store' }
	});
};
