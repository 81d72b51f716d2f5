import { fail, redirect } from '@sveltejs/kit';
import * as forms from '#lib/server/admin/content-forms.ts';
import * as edits from '#lib/server/admin/content-edits.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions } from './$types';

const FIELDS = ['title', 'slug', 'summary', 'body', 'status'];

export const actions: Actions = {
	create: async (event) => {
		const form = await readForm(event.request);
		if (!form.ok) return fail(form.status, { values: {}, errors: { form: form.message } });
		const parsed = forms.parse(forms.ModuleInput, FIELDS, form.data);
		if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
		const db = event.locals.services.database.db;
		const saved = await edits.createModule(db, parsed.values);
		if (!saved.ok) return fail(400, { values: parsed.values, errors: saved.errors });
		await audit.recordAction(db, event, 'content.module.create', saved.id, {
			slug: parsed.values.slug
		});
		redirect(303, `/admin/content/modules/${saved.id}?created=1`);
	}
};
