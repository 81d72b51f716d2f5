import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** Liveness: the process answers. Touches nothing else, so a database outage does not restart it. */
export const GET: RequestHandler = () =>
	json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
