import { redirect } from '@sveltejs/kit';
import * as convos from '#lib/server/tutor/conversations.ts';
import { listQuery } from './list-query.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const { q, page } = listQuery(url);
	const list = await convos.list(locals.services.database.db, locals.user!.id, { query: q, page });
	return {
		q,
		...list,
		rows: list.rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() }))
	};
};

export const actions: Actions = {
	create: async ({ locals }) => {
		const conversation = await convos.create(locals.services.database.db, locals.user!.id);
		redirect(303, `/tutor/${conversation.id}`);
	}
};
