import * as course from '#lib/server/learn/course.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const db = locals.services.database.db;
	const user = locals.user!;
	const [modules, next] = await Promise.all([
		course.listModules(db, user.id, user.role === 'admin'),
		course.continueLesson(db, user.id)
	]);
	return { modules, next };
};
