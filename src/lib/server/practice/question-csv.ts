/**
 * Questions as CSV, both ways: one row per question under a header of column names, with the
 * options and the answer key written as JSON inside their cells. The columns and how each cell is
 * read and written are the question's fields (`#lib/practice/question-fields.ts`).
 *
 * @example
 * const parsed = parseCsvRows(text); // then importQuestions(db, parsed)
 * const text = toCsv(await exportQuestions(db));
 */
import { FIELD_NAMES, QUESTION_FIELDS, type FieldName } from '#lib/practice/question-fields.ts';
import { formatCsv, parseCsv } from './csv';
import type { Parsed, QuestionInput, RowError } from './question-input';

const COLUMNS = new Set<string>(FIELD_NAMES);
const isColumn = (name: string): name is FieldName => COLUMNS.has(name);

export function parseCsvRows(text: string): Parsed {
	const table = parseCsv(text).filter((r) => r.some((c) => c.trim() !== ''));
	const header = table[0]?.map((h) => h.trim());
	if (!header) return { ok: false, errors: [{ row: 1, message: 'the file is empty' }] };
	const missing = FIELD_NAMES.filter((n) => QUESTION_FIELDS[n].required && !header.includes(n));
	if (missing.length)
		return { ok: false, errors: [{ row: 1, message: `missing columns: ${missing.join(', ')}` }] };
	const errors: RowError[] = [];
	const raw = table.slice(1).map((cells, i) => {
		const item: Record<string, unknown> = {};
		header.forEach((name, c) => {
			if (!isColumn(name)) return;
			try {
				item[name] = QUESTION_FIELDS[name].csv.read(cells[c] ?? '');
			} catch (error) {
				errors.push({
					row: i + 2,
					ref: cells[header.indexOf('ref')],
					message: `${name}: ${(error as Error).message}`
				});
			}
		});
		return item;
	});
	if (errors.length) return { ok: false, errors };
	return { ok: true, raw, rowNumber: (i) => i + 2 };
}

/** The cell of one field; each field's writer takes that field's own value. */
const cellOf = <K extends FieldName>(q: QuestionInput, name: K) =>
	(QUESTION_FIELDS[name].csv.write as (value: QuestionInput[K]) => string)(q[name]);

export function toCsv(rows: QuestionInput[]): string {
	return formatCsv([[...FIELD_NAMES], ...rows.map((q) => FIELD_NAMES.map((n) => cellOf(q, n)))]);
}
