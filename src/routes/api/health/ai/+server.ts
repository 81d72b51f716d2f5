import { json } from '@sveltejs/kit';
import { checkProvider } from '#lib/server/ai/health.ts';
import type { RequestHandler } from './$types';

/**
 * The tutor's provider answers a real, minimal request (cached for 30 s so polling cannot spend
 * tokens). 200 when it works, 503 with what failed (never a key) when it does not.
 */
export const GET: RequestHandler = async ({ locals }) => {
	const health = await checkProvider(locals.services.provider);
	return json(health, { status: health.ok ? 200 : 503 });
};
