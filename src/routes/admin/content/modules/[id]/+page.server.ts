import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as queries from '#lib/server/admin/content-queries.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'slug', 'summary', 'body', 'status'];
const isId = (id: string) => v.is(v.pipe(v.string(), v.uuid()), id);

export const load: PageServerLoad = async ({ locals, params }) => {
	const module = isId(params.id)
		? await queries.getModule(locals.services.database.db, params.id)
		: null;
	if (!module) error(404, 'This module does not exist.');
	return {
		module: {
			id: module.id,
			title: module.title,
			slug: module.slug,
			summary: module.summary,
			body: module.body,
			status: module.status,
			pack: module.pack
		}
	};
};

export const actions: Actions = {
	save: async (event) => {
		if (!isId(event.params.id)) error(404, 'This module does not exist.');
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.ModuleInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const saved = await edits.updateModule(db, event.params.id, parsed.values);
		if (!saved.ok) return fail(400, { values: parsed.values, errors: saved.errors });
		await audit.recordAction(db, event, 'content.module.update', event.params.id, {
			slug: parsed.values.slug
		});
		return { saved: true };
	},
	delete: async (event) => {
		if (!isId(event.params.id)) error(404, 'This module does not exist.');
		const db = event.locals.services.database.db;
		const gone = await edits.remove(db, 'module', event.params.id);
		if (gone)
			await audit.recordAction(db, event, 'content.module.delete', event.params.id, {
				title: gone.title
			});
		redirect(303, '/admin/content');
	}
};
