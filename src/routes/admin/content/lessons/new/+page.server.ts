import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'summary', 'minutes', 'body', 'status'];

async function parent(locals: App.Locals, url: URL) {
	const id = url.searchParams.get('module') ?? '';
	const module = v.is(v.pipe(v.string(), v.uuid()), id)
		? await queries.getModule(locals.services.database.db, id)
		: null;
	if (!module) error(404, 'Choose a module to add the lesson to (from the content list).');
	return module;
}

export const load: PageServerLoad = async ({ locals, url }) => {
	const module = await parent(locals, url);
	return { module: { id: module.id, title: module.title } };
};

export const actions: Actions = {
	create: async (event) => {
		const module = await parent(event.locals, event.url);
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.LessonInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const saved = await edits.createLesson(db, module.id, parsed.values);
		if (!saved.ok)
			return fail(400, {
				values: { ...parsed.values, minutes: String(parsed.values.minutes) },
				errors: saved.errors
			});
		await audit.recordAction(db, event, 'content.lesson.create', saved.id, {
			module: module.id,
			slug: parsed.values.slug
		});
		redirect(303, `/admin/content/lessons/${saved.id}?created=1`);
	}
};
