import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { formatCsv, parseCsv } from '#lib/server/practice/csv.ts';
import {
	EMPTY_FORM,
	formToRaw,
	inputToForm,
	readQuestionForm
} from '#lib/server/practice/admin-form.ts';
import { parseCsvRows, toCsv } from '#lib/server/practice/question-csv.ts';
import { checkRows, QuestionInput, storedKey } from '#lib/server/practice/question-input.ts';
import { FIELD_NAMES, FORM_NAMES, QUESTION_FIELDS } from './question-fields.ts';

const base = {
	exam: 'python-entry',
	topic: 'loops',
	difficulty: 2,
	code: '',
	options: [],
	pattern: null,
	starterCode: '',
	solutionCode: '',
	checks: ''
};

/** One question of each kind, every field it uses set to something other than its default. */
const QUESTIONS: QuestionInput[] = [
	{
		...base,
		ref: 'single-1',
		kind: 'single',
		difficulty: 1,
		prompt: 'Which, "exactly",\nprints 3?',
		code: 'x = 3',
		options: ['print(x)', 'print("x, y")'],
		answer: 1,
		explanation: 'It prints x.'
	},
	{
		...base,
		ref: 'multiple-1',
		kind: 'multiple',
		difficulty: 3,
		prompt: 'Pick the loops.',
		options: ['for', 'while', 'if'],
		answer: [1, 2],
		explanation: 'Both repeat.'
	},
	{
		...base,
		ref: 'short-1',
		kind: 'short',
		prompt: 'Name the keyword.',
		answer: ['for', 'for loop'],
		pattern: 'for( loop)?',
		explanation: 'A for loop.'
	},
	{
		...base,
		ref: 'output-1',
		kind: 'output',
		prompt: 'What prints?',
		code: 'print(1)\nprint(2)',
		answer: '1\n2',
		explanation: 'Two lines.'
	},
	{
		...base,
		ref: 'code-1',
		kind: 'code',
		prompt: 'Write add.',
		answer: null,
		starterCode: 'def add(a, b):\n    pass',
		solutionCode: 'def add(a, b):\n    return a + b',
		checks: 'def check_add():\n    assert add(1, 2) == 3',
		explanation: 'Return the sum.'
	}
];

function formData(values: Record<string, string>) {
	const data = new FormData();
	for (const [name, value] of Object.entries(values)) data.set(name, value);
	return data;
}

describe('the question fields, defined once', () => {
	it('are the validation schema, the CSV columns and the editor inputs', () => {
		expect(Object.keys(QuestionInput.entries)).toEqual(FIELD_NAMES);
		expect(parseCsv(toCsv([]))[0]).toEqual(FIELD_NAMES);
		expect(Object.keys(EMPTY_FORM).sort()).toEqual([...FORM_NAMES].sort());
		expect(Object.keys(inputToForm(QUESTIONS[0]!)).sort()).toEqual([...FORM_NAMES].sort());
		// The exam rides in the topic input; every other field has an input of its own.
		expect(FIELD_NAMES.filter((n) => !(FORM_NAMES as string[]).includes(n))).toEqual(['exam']);
	});

	// Otherwise a field the round trips drop could pass unnoticed.
	it('have samples that set every field to something other than its default', () => {
		for (const name of FIELD_NAMES) {
			const fallback = JSON.stringify(v.getDefault(QUESTION_FIELDS[name].schema) ?? null);
			expect(
				QUESTIONS.some((q) => JSON.stringify(q[name]) !== fallback),
				name
			).toBe(true);
		}
	});

	it.each(QUESTIONS.map((q) => [q.kind, q] as const))(
		'round-trip every field through CSV (%s)',
		(_kind, q) => {
			const parsed = parseCsvRows(toCsv([q]));
			expect(parsed.ok).toBe(true);
			if (!parsed.ok) return;
			expect(checkRows(parsed.raw, parsed.rowNumber)).toEqual({ ok: true, rows: [q] });
		}
	);

	it.each(QUESTIONS.map((q) => [q.kind, q] as const))(
		'round-trip every field through the editor form (%s)',
		(_kind, q) => {
			const form = readQuestionForm(formData(inputToForm(q)));
			expect(checkRows([formToRaw(form)])).toEqual({ ok: true, rows: [q] });
		}
	);

	it('name each required field missing from a CSV header', () => {
		const required = FIELD_NAMES.filter((n) => QUESTION_FIELDS[n].required);
		expect(required).toEqual([
			'ref',
			'exam',
			'topic',
			'kind',
			'difficulty',
			'prompt',
			'explanation'
		]);
		const [header, ...rows] = parseCsv(toCsv(QUESTIONS));
		for (const name of required) {
			const keep = header!.map((h) => h !== name);
			const text = formatCsv([header!, ...rows].map((r) => r.filter((_, i) => keep[i])));
			expect(parseCsvRows(text)).toEqual({
				ok: false,
				errors: [{ row: 1, message: `missing columns: ${name}` }]
			});
		}
	});

	it('read editor numbers from 1 and CSV cells as JSON, as each field says', () => {
		const form = { ...EMPTY_FORM, kind: 'multiple', answer: '1, 3', options: 'a\n\nb\nc' };
		// The form numbers options from 1, exactly as files and imports do.
		expect(formToRaw(form)).toMatchObject({ answer: [1, 3], options: ['a', 'b', 'c'] });
		// The same question typed in the form and written in a CSV import is the same row, and "3"
		// means the third option in both (stored as index 2).
		const csv = parseCsvRows(
			'ref,exam,topic,kind,difficulty,prompt,explanation,options,answer\nr,e,t,single,1,P,E,"[""a"",""b"",""c""]",3\n'
		);
		const typed = { ...EMPTY_FORM, ref: 'r', topic: 'e/t', kind: 'single', difficulty: '1' };
		const fromForm = { ...typed, prompt: 'P', explanation: 'E', options: 'a\nb\nc', answer: '3' };
		expect(csv.ok).toBe(true);
		if (!csv.ok) return;
		const viaCsv = checkRows(csv.raw, csv.rowNumber);
		expect(viaCsv).toEqual(checkRows([formToRaw(fromForm)]));
		expect(viaCsv.ok && storedKey(viaCsv.rows[0]!)).toEqual({ key: 2 });
		const bad = parseCsvRows(
			'ref,exam,topic,kind,difficulty,prompt,explanation,answer\nr,e,t,single,1,P,E,[1\n'
		);
		expect(bad).toEqual({
			ok: false,
			errors: [{ row: 2, ref: 'r', message: 'answer: is not valid JSON' }]
		});
	});
});
