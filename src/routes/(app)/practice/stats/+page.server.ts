import { loadStats } from '#lib/server/practice/stats.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const stats = await loadStats(locals.services.database.db, locals.user!.id);
	return {
		...stats,
		mocks: stats.mocks.map((m) => ({ ...m, submittedAt: m.submittedAt.toISOString() }))
	};
};
