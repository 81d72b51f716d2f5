import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as course from '#lib/server/learn/course.ts';
import { getNotebook } from '#lib/server/learn/notebooks.ts';
import { askFromLesson } from '#lib/server/learn/tutor-context.ts';
import { readForm } from '#lib/server/http/forms.ts';
import { CODE_MAX_CHARS } from '#lib/learn/limits.ts';
import { renderMarkdown } from '#lib/tutor/markdown.ts';
import type { Actions, PageServerLoad } from './$types';

async function findLesson(locals: App.Locals, params: { module: string; lesson: string }) {
	const user = locals.user!;
	const page = await course.lessonPage(
		locals.services.database.db,
		user.id,
		params.module,
		params.lesson,
		user.role === 'admin'
	);
	if (!page) error(404, 'This lesson does not exist.');
	return page;
}

export const load: PageServerLoad = async ({ locals, params }) => {
	const page = await findLesson(locals, params);
	const current = page.lessons.find((l) => l.id === page.lesson.id)!;
	const user = locals.user!;
	const notebook = await getNotebook(
		locals.services.database.db,
		user.id,
		page.module.slug,
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
		module: { slug: page.module.slug, title: page.module.title, status: page.module.status },
		lesson: {
			id: page.lesson.id,
			slug: page.lesson.slug,
			title: page.lesson.title,
			summary: page.lesson.summary,
			minutes: page.lesson.minutes,
			status: page.lesson.status,
			completed: current.completed,
			html: renderMarkdown(page.lesson.body)
		},
		lessons: page.lessons.map((l) => ({
			slug: l.slug,
			title: l.title,
			completed: l.completed
		})),
		exercises: page.exercises.map((x) => ({ ...x, promptHtml: renderMarkdown(x.prompt) })),
		previous: page.previous && { slug: page.previous.slug, title: page.previous.title },
		next: page.next && { slug: page.next.slug, title: page.next.title }
	};
};

const Ask = v.object({
	exerciseId: v.optional(v.pipe(v.string(), v.uuid())),
	code: v.optional(v.pipe(v.string(), v.maxLength(CODE_MAX_CHARS))),
	lastError: v.optional(v.pipe(v.string(), v.maxLength(5000)))
});

export const actions: Actions = {
	complete: async ({ locals, params }) => {
		const page = await findLesson(locals, params);
		await course.markLessonComplete(locals.services.database.db, locals.user!.id, page.lesson.id);
		return { completed: true };
	},
	ask: async ({ locals, params, request }) => {
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message });
		const text = (name: string) => {
			const value = form.data.get(name);
			return typeof value === 'string' && value !== '' ? value : undefined;
		};
		const parsed = v.safeParse(Ask, {
			exerciseId: text('exerciseId'),
			code: text('code'),
			lastError: text('lastError')
		});
		if (!parsed.success) return fail(400, { message: 'That request could not be read.' });
		const page = await findLesson(locals, params);
		const exercise = page.exercises.find((x) => x.id === parsed.output.exerciseId);
		if (parsed.output.exerciseId && !exercise)
			return fail(400, { message: 'That exercise is not part of this lesson.' });
		const id = await askFromLesson(
			locals.services.database.db,
			locals.user!.id,
			{
				lessonId: page.lesson.id,
				lessonTitle: page.lesson.title,
				exerciseId: exercise?.id,
				exerciseTitle: exercise?.title
			},
			{ code: parsed.output.code, lastError: parsed.output.lastError }
		);
		redirect(303, `/tutor/${id}`);
	}
};
