import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as shared from '#lib/server/admin/content-actions.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'summary', 'minutes', 'body', 'status'];
const isId = (id: string) => v.is(v.pipe(v.string(), v.uuid()), id);

export const load: PageServerLoad = async ({ locals, params }) => {
	const found = isId(params.id)
		? await queries.getLesson(locals.services.database.db, params.id)
		: null;
	if (!found) error(404, 'This lesson does not exist.');
	const { lesson, module, exercises } = found;
	return {
		module,
		lesson: {
			id: lesson.id,
			title: lesson.title,
			slug: lesson.slug,
			summary: lesson.summary,
			minutes: String(lesson.minutes),
			body: lesson.body,
			status: lesson.status
		},
		exercises
	};
};

export const actions: Actions = {
	save: async (event) => {
		if (!isId(event.params.id)) error(404, 'This lesson does not exist.');
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.LessonInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const saved = await edits.updateLesson(db, event.params.id, parsed.values);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, minutes: String(parsed.values.minutes) },
				errors: saved.errors
			});
		await audit.recordAction(db, event, 'content.lesson.update', event.params.id, {
			slug: parsed.values.slug
		});
		return { saved: true };
	},
	deleteLesson: async (event) => {
		if (!isId(event.params.id)) error(404, 'This lesson does not exist.');
		const db = event.locals.services.database.db;
		const gone = await edits.remove(db, 'lesson', event.params.id);
		if (gone)
			await audit.recordAction(db, event, 'content.lesson.delete', event.params.id, {
				title: gone.title
			});
		redirect(303, '/admin/content');
	},
	move: shared.move,
	delete: shared.remove
};
