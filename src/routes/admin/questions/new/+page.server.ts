import { fail, redirect } from '@sveltejs/kit';
import * as admin from '#lib/server/practice/admin.ts';
import { EMPTY_FORM, formToRaw, readQuestionForm } from '#lib/server/practice/admin-form.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => ({
	values: EMPTY_FORM,
	topics: await admin.examsAndTopics(locals.services.database.db)
});

export const actions: Actions = {
	save: async ({ locals, request }) => {
		const body = await readForm(request);
		if (!body.ok) return fail(body.status, { errors: [body.message], values: EMPTY_FORM });
		const values = readQuestionForm(body.data);
		const db = locals.services.database.db;
		const result = await admin.saveQuestion(db, null, formToRaw(values));
		if (!result.ok) return fail(400, { errors: result.errors, values });
		await audit.record(db, {
			actorId: locals.user!.id,
			action: 'question.create',
			targetId: result.id,
			detail: { ref: values.ref }
		});
		redirect(303, `/admin/questions/${result.id}?saved=1`);
	}
};
