/**
 * Questions as CSV, both ways: one row per question under a header of column names, with the
 * options and the answer key written as JSON inside their cells.
 *
 * @example
 * const parsed = parseCsvRows(text); // then importQuestions(db, parsed)
 * const text = toCsv(await exportQuestions(db));
 */
import { formatCsv, parseCsv } from './csv';
import type { Parsed, QuestionInput, RowError } from './question-input';

export const CSV_COLUMNS = [
	'ref',
	'exam',
	'topic',
	'kind',
	'difficulty',
	'prompt',
	'code',
	'options',
	'answer',
	'pattern',
	'starterCode',
	'solutionCode',
	'checks',
	'explanation'
] as const;
/** CSV cells holding JSON (a list of options; the answer key). */
const JSON_COLUMNS = new Set(['options', 'answer']);

export function parseCsvRows(text: string): Parsed {
	const table = parseCsv(text).filter((r) => r.some((c) => c.trim() !== ''));
	const header = table[0]?.map((h) => h.trim());
	if (!header) return { ok: false, errors: [{ row: 1, message: 'the file is empty' }] };
	const missing = ['ref', 'exam', 'topic', 'kind', 'difficulty', 'prompt', 'explanation'].filter(
		(c) => !header.includes(c)
	);
	if (missing.length)
		return { ok: false, errors: [{ row: 1, message: `missing columns: ${missing.join(', ')}` }] };
	const errors: RowError[] = [];
	const raw = table.slice(1).map((cells, i) => {
		const item: Record<string, unknown> = {};
		header.forEach((name, c) => {
			const cellText = cells[c] ?? '';
			if (!(CSV_COLUMNS as readonly string[]).includes(name)) return;
			if (name === 'difficulty') item[name] = cellText.trim() === '' ? undefined : Number(cellText);
			else if (JSON_COLUMNS.has(name)) {
				if (cellText.trim() === '') return;
				try {
					item[name] = JSON.parse(cellText);
				} catch {
					errors.push({
						row: i + 2,
						ref: cells[header.indexOf('ref')],
						message: `${name}: is not valid JSON`
					});
				}
			} else if (name === 'pattern') item[name] = cellText === '' ? null : cellText;
			else item[name] = cellText;
		});
		return item;
	});
	if (errors.length) return { ok: false, errors };
	return { ok: true, raw, rowNumber: (i) => i + 2 };
}

export function toCsv(rows: QuestionInput[]): string {
	return formatCsv([
		[...CSV_COLUMNS],
		...rows.map((q) =>
			CSV_COLUMNS.map((c) => {
				const value = q[c];
				if (JSON_COLUMNS.has(c))
					return value === null || (Array.isArray(value) && !value.length && c === 'options')
						? ''
						: JSON.stringify(value);
				if (value === null || value === undefined) return '';
				return String(value);
			})
		)
	]);
}
