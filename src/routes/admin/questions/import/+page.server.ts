import { fail } from '@sveltejs/kit';
import { parseCsvRows } from '#lib/server/practice/question-csv.ts';
import { importQuestions, parseJsonRows } from '#lib/server/practice/question-import.ts';
import { IMPORT_MAX_ROWS, type RowError } from '#lib/server/practice/question-input.ts';
import * as admin from '#lib/server/practice/admin.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

/** Largest import file accepted. */
const IMPORT_MAX_BYTES = 2_000_000;

export const load: PageServerLoad = async ({ locals }) => {
	const topics = await admin.examsAndTopics(locals.services.database.db);
	return {
		exams: [...new Map(topics.map((t) => [t.exam, t.examTitle])).entries()].map(
			([slug, title]) => ({ slug, title })
		),
		maxBytes: IMPORT_MAX_BYTES,
		maxRows: IMPORT_MAX_ROWS
	};
};

export const actions: Actions = {
	import: async ({ locals, request }) => {
		const form = await readForm(request);
		if (!form.ok) return fail(form.status, { message: form.message, errors: [] as RowError[] });
		const file = form.data.get('file');
		if (!(file instanceof File) || file.size === 0)
			return fail(400, { message: 'Choose a JSON or CSV file to import.', errors: [] });
		if (file.size > IMPORT_MAX_BYTES)
			return fail(413, {
				message: `The file is larger than ${IMPORT_MAX_BYTES / 1_000_000} MB.`,
				errors: []
			});
		const format =
			/\.csv$/i.test(file.name) || file.type === 'text/csv'
				? 'csv'
				: /\.json$/i.test(file.name) || file.type === 'application/json'
					? 'json'
					: null;
		if (!format) return fail(400, { message: 'The file must end in .json or .csv.', errors: [] });
		const text = await file.text();
		const db = locals.services.database.db;
		const report = await importQuestions(
			db,
			format === 'csv' ? parseCsvRows(text) : parseJsonRows(text)
		);
		if (!report.ok)
			return fail(400, {
				message: `Nothing was imported: ${report.errors.length} row${report.errors.length === 1 ? ' has' : 's have'} problems. Fix ${report.errors.length === 1 ? 'it' : 'them'} and import the file again.`,
				file: file.name,
				errors: report.errors
			});
		await audit.record(db, {
			actorId: locals.user!.id,
			action: 'question.import',
			detail: { file: file.name, created: report.created, updated: report.updated }
		});
		return { file: file.name, created: report.created, updated: report.updated };
	}
};
