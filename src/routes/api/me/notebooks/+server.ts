import { json } from '@sveltejs/kit';
import { listNotebooks } from '#lib/server/learn/notebooks.ts';
import type { RequestHandler } from './$types';

/** The signed-in student's module notebooks (the lab's file list). */
export const GET: RequestHandler = async ({ locals }) => {
	const user = locals.user!;
	const notebooks = await listNotebooks(
		locals.services.database.db,
		user.id,
		user.role === 'admin'
	);
	return json({ notebooks }, { headers: { 'cache-control': 'no-store' } });
};
