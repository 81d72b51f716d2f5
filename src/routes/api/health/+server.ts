import { json } from '@sveltejs/kit';
import { logger } from '#lib/server/log.ts';
import type { RequestHandler } from './$types';

const TIMEOUT_MS = 2000;

/** Readiness: the database answers within two seconds. */
export const GET: RequestHandler = async ({ locals }) => {
	const { database } = locals.services;
	const started = performance.now();
	try {
		await Promise.race([
			database.ping(),
			new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS))
		]);
		return json({
			status: 'ok',
			database: { kind: database.kind, ok: true, ms: Math.round(performance.now() - started) }
		});
	} catch (err) {
		logger().warn({ err }, 'readiness check failed');
		return json(
			{
				status: 'unavailable',
				database: { kind: database.kind, ok: false, error: (err as Error).message }
			},
			{ status: 503 }
		);
	}
};
