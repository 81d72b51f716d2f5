import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as shared from '#lib/server/admin/content-actions.ts';
import { audit } from '#lib/server/admin/audit-event.ts';
import { readForm } from '#lib/server/http/forms.ts';
import { runtime } from '#lib/server/runtime.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'summary', 'minutes', 'body', 'status'];
const isId = (id: string) => v.is(v.pipe(v.string(), v.uuid()), id);

export const load: PageServerLoad = async ({ params }) => {
	const found = isId(params.id) ? await queries.getLesson(runtime().database.db, params.id) : null;
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
		const saved = await edits.updateLesson(runtime().database.db, event.params.id, parsed.values);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, minutes: String(parsed.values.minutes) },
				errors: saved.errors
			});
		await audit(event, 'content.lesson.update', event.params.id, { slug: parsed.values.slug });
		return { saved: true };
	},
	deleteLesson: async (event) => {
		if (!isId(event.params.id)) error(404, 'This lesson does not exist.');
		const gone = await edits.remove(runtime().database.db, 'lesson', event.params.id);
		if (gone) await audit(event, 'content.lesson.delete', event.params.id, { title: gone.title });
		redirect(303, '/admin/content');
	},
	move: shared.move,
	delete: shared.remove
};
