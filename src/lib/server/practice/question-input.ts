/**
 * One question as files, imports and exports spell it: the valibot shape (built from the fields in
 * `#lib/practice/question-fields.ts`), the per-kind rules it cannot say, and `checkRows`, which
 * checks a whole file's rows without touching the database.
 *
 * @example
 * const checked = checkRows(rows);
 * if (!checked.ok) for (const e of checked.errors) console.log(`row ${e.row}: ${e.message}`);
 */
import * as v from 'valibot';
import { FIELD_SCHEMAS } from '#lib/practice/question-fields.ts';

/**
 * Option numbers count from 1 wherever an author writes them (question files, CSV and JSON imports,
 * exports, the editor), as students see the options; the stored key counts from 0. These two
 * functions are the only places that convert.
 */
export function storedKey(q: Pick<QuestionInput, 'kind' | 'answer'>) {
	if (q.kind === 'code' || q.answer === null) return null;
	if (q.kind === 'single') return { key: (q.answer as number) - 1 };
	if (q.kind === 'multiple')
		return { key: (q.answer as number[]).map((n) => n - 1).sort((a, b) => a - b) };
	return { key: q.answer };
}

/** A stored key in the authors' numbering (see `storedKey`). */
export function authoredAnswer(kind: string, key: unknown): QuestionInput['answer'] {
	if (key === null || key === undefined) return null;
	if (kind === 'single') return (key as number) + 1;
	if (kind === 'multiple') return (key as number[]).map((n) => n + 1);
	return key as QuestionInput['answer'];
}

/** Rows in one import file at most. */
export const IMPORT_MAX_ROWS = 2000;

/** One question as files, imports and exports spell it (the exam and topic by slug). */
export const QuestionInput = v.object(FIELD_SCHEMAS);
export type QuestionInput = v.InferOutput<typeof QuestionInput>;

/** The per-kind rules valibot's shape cannot say. Returns problems, empty when fine. */
export function kindProblems(q: QuestionInput): string[] {
	const problems: string[] = [];
	const isIndex = (n: unknown) =>
		typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= q.options.length;
	switch (q.kind) {
		case 'single':
			if (q.options.length < 2 || q.options.length > 8)
				problems.push('options: give 2 to 8 options');
			if (!isIndex(q.answer))
				problems.push(
					`answer: must be the number (from 1) of one of the ${q.options.length} options`
				);
			break;
		case 'multiple': {
			if (q.options.length < 2 || q.options.length > 8)
				problems.push('options: give 2 to 8 options');
			const a = q.answer;
			if (!Array.isArray(a) || a.length === 0 || !a.every(isIndex))
				problems.push('answer: must be a list of option numbers (from 1), at least one');
			else if (new Set<unknown>(a).size !== a.length)
				problems.push('answer: an option is listed twice');
			break;
		}
		case 'short': {
			const a = q.answer;
			if (!Array.isArray(a) || a.length === 0 || !a.every((s) => typeof s === 'string' && s.trim()))
				problems.push('answer: must be a list of accepted answers (text), at least one');
			if (q.pattern) {
				try {
					const re = new RegExp(`^(?:${q.pattern})$`);
					if (Array.isArray(a))
						for (const s of a)
							if (typeof s === 'string' && !re.test(normalizeShort(s)))
								problems.push(`pattern: does not match the accepted answer "${s}"`);
				} catch {
					problems.push('pattern: is not a valid regular expression');
				}
			}
			break;
		}
		case 'output':
			if (!q.code.trim()) problems.push('code: the program whose output is asked for is required');
			if (typeof q.answer !== 'string') problems.push('answer: must be the exact output (text)');
			break;
		case 'code':
			if (!q.solutionCode.trim()) problems.push('solutionCode: is required');
			if (!/^def check_/m.test(q.checks))
				problems.push('checks: define at least one check_ function');
			break;
	}
	return problems;
}

/** Short answers compare after trimming and collapsing runs of whitespace. */
export function normalizeShort(text: string) {
	return text.trim().replace(/\s+/g, ' ');
}

/** Program output compares without trailing spaces on lines or blank lines at either end. */
export function normalizeOutput(text: string) {
	return text
		.replace(/\r\n?/g, '\n')
		.split('\n')
		.map((l) => l.trimEnd())
		.join('\n')
		.replace(/^\n+|\n+$/g, '');
}

export interface RowError {
	/** 1-based row number in the file (for CSV, the header is row 1, so data starts at 2). */
	row: number;
	ref?: string;
	message: string;
}

export type Checked = { ok: true; rows: QuestionInput[] } | { ok: false; errors: RowError[] };

/** A file read into raw rows (not yet checked), with how its rows are numbered for messages. */
export type Parsed =
	| { ok: true; raw: unknown[]; rowNumber: (i: number) => number }
	| { ok: false; errors: RowError[] };

/** Validates raw rows (objects) without touching the database. */
export function checkRows(raw: unknown[], rowNumber = (i: number) => i + 1): Checked {
	const errors: RowError[] = [];
	const rows: QuestionInput[] = [];
	const seen = new Map<string, number>();
	if (raw.length > IMPORT_MAX_ROWS)
		return { ok: false, errors: [{ row: 0, message: `at most ${IMPORT_MAX_ROWS} rows per file` }] };
	raw.forEach((item, i) => {
		const row = rowNumber(i);
		const ref =
			item && typeof item === 'object' && typeof (item as { ref?: unknown }).ref === 'string'
				? (item as { ref: string }).ref
				: undefined;
		const parsed = v.safeParse(QuestionInput, item);
		if (!parsed.success) {
			errors.push({
				row,
				ref,
				message: parsed.issues
					.map((issue) => `${v.getDotPath(issue) ?? 'row'}: ${issue.message}`)
					.join('; ')
			});
			return;
		}
		const problems = kindProblems(parsed.output);
		const earlier = seen.get(parsed.output.ref);
		if (earlier !== undefined)
			problems.push(`ref: "${parsed.output.ref}" is also used by row ${earlier}`);
		seen.set(parsed.output.ref, row);
		if (problems.length) errors.push({ row, ref, message: problems.join('; ') });
		else rows.push(parsed.output);
	});
	return errors.length ? { ok: false, errors } : { ok: true, rows };
}
