import * as queries from '#lib/server/admin/content-queries.ts';
import * as actions_ from '#lib/server/admin/content-actions.ts';
import { runtime } from '#lib/server/runtime.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({
	modules: await queries.tree(runtime().database.db)
});

export const actions: Actions = {
	move: actions_.move,
	status: actions_.status,
	delete: actions_.remove
};
