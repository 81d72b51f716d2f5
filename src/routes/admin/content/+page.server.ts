import * as queries from '#lib/server/admin/content-queries.ts';
import * as actions_ from '#lib/server/admin/content-actions.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({
	modules: await queries.tree(locals.services.database.db)
});

export const actions: Actions = {
	move: actions_.move,
	status: actions_.status,
	delete: actions_.remove
};
