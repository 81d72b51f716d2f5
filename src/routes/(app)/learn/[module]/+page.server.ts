import { error } from '@sveltejs/kit';
import * as course from '#lib/server/learn/course.ts';
import { getNotebook } from '#lib/server/learn/notebooks.ts';
import { renderMarkdown } from '#lib/tutor/markdown.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params }) => {
	const user = locals.user!;
	const found = await course.moduleWithLessons(
		locals.services.database.db,
		user.id,
		params.module,
		user.role === 'admin'
	);
	if (!found || !found.lessons.length) error(404, 'This module does not exist.');
	const { module, lessons } = found;
	const notebook = await getNotebook(
		locals.services.database.db,
		user.id,
		module.slug,
		user.role === 'admin'
	);
	return {
		notebook: notebook && {
			module: notebook.module,
			title: notebook.title,
			edited: notebook.edited,
			newerOriginal: notebook.newerOriginal,
			updatedAt: notebook.updatedAt
		},
		module: {
			slug: module.slug,
			title: module.title,
			summary: module.summary,
			status: module.status,
			html: module.body ? renderMarkdown(module.body) : ''
		},
		lessons
	};
};
