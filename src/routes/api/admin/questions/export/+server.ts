import { error } from '@sveltejs/kit';
import { toCsv } from '#lib/server/practice/question-csv.ts';
import { exportQuestions } from '#lib/server/practice/question-export.ts';
import type { RequestHandler } from './$types';

/** The question bank (or one exam's questions) as JSON or CSV, in the import format. */
export const GET: RequestHandler = async ({ locals, url }) => {
	const format = url.searchParams.get('format') ?? 'json';
	if (format !== 'json' && format !== 'csv') error(400, 'format must be json or csv.');
	const exam = url.searchParams.get('exam') || undefined;
	if (exam && !/^[a-z0-9-]{1,80}$/.test(exam)) error(400, 'That exam name could not be read.');
	const rows = await exportQuestions(locals.services.database.db, { exam });
	const name = `questions${exam ? `-${exam}` : ''}-${new Date().toISOString().slice(0, 10)}.${format}`;
	return new Response(format === 'csv' ? toCsv(rows) : JSON.stringify(rows, null, 2) + '\n', {
		headers: {
			'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
			'content-disposition': `attachment; filename="${name}"`
		}
	});
};
