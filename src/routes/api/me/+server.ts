import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** The signed-in user. Calling it also renews an expired access token (before a WebSocket reconnect). */
export const GET: RequestHandler = ({ locals }) => {
	const user = locals.user!;
	return json({ id: user.id, email: user.email, displayName: user.displayName, role: user.role });
};
