/**
 * A practice question's fields, defined once: each one's label, its validation, and how it is
 * written in a CSV cell and in the admin editor's form. The import schema, CSV import and export,
 * and the editor all read this list, so adding a field is one entry here.
 *
 * @example
 * QUESTION_FIELDS.prompt.label; // 'Prompt (markdown)'
 * FIELD_NAMES.filter((name) => QUESTION_FIELDS[name].required); // the columns a CSV must have
 */
import * as v from 'valibot';
import type { QuestionKind } from './types';

export const KINDS = ['single', 'multiple', 'short', 'output', 'code'] as const;

/** Field pieces shared with the exam files' own schema (bank.ts). */
export const Slug = v.pipe(
	v.string(),
	v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'use lower-case letters, digits and hyphens'),
	v.maxLength(80)
);
export const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
export const Required = (max: number) =>
	v.pipe(v.string(), v.trim(), v.nonEmpty('is required'), v.maxLength(max));

/** The editor's inputs by name, all text. */
export type FormValues = Readonly<Record<string, string>>;
/** A question in its file shape, before or after validation. */
type Row = Readonly<Record<string, unknown>>;

interface CsvCodec<T> {
	/** A cell's raw value for validation (`undefined` when left blank); throws when unreadable. */
	read(cell: string): unknown;
	write(value: T): string;
}

interface FormCodec<T> {
	/** The raw value from its own input (`own`) or, for a field another input carries, from `form`. */
	read(own: string, form: FormValues): unknown;
	/** Fills its own input; a field without `write` has no input. */
	write?(value: T, q: Row): string;
	/** The input's value for a new question ('' when not given). */
	blank?: string;
}

function field<
	S extends v.GenericSchema,
	F extends FormCodec<v.InferOutput<S>>,
	C extends Record<string, string> | undefined = undefined
>(spec: {
	label: string;
	schema: S;
	csv: CsvCodec<v.InferOutput<S>>;
	form: F;
	/** The values the editor offers, with their labels. */
	choices?: C;
}) {
	// An optional schema has a default, so the field may be left out of a file or a CSV header.
	return { ...spec, choices: spec.choices as C, required: spec.schema.type !== 'optional' };
}

const cell = (value: unknown) => (value === null || value === undefined ? '' : String(value));
const csvText = { read: (c: string) => c, write: cell };
const csvJson = {
	read(c: string) {
		if (c.trim() === '') return undefined;
		try {
			return JSON.parse(c) as unknown;
		} catch {
			throw new Error('is not valid JSON');
		}
	},
	write: (value: unknown) => (value === null ? '' : JSON.stringify(value))
};
const asIs = { read: (own: string) => own, write: (value: string) => value };

const lines = (text: string) =>
	text
		.split('\n')
		.map((l) => l.trim())
		.filter(Boolean);
/** Option numbers count from 1 in the form, as in files and imports (see `storedKey`). */
const isNumber = (text: string) => /^\d+$/.test(text);

function answerFromForm(kind: string, text: string): unknown {
	switch (kind) {
		case 'single':
			return isNumber(text.trim()) ? Number(text.trim()) : text;
		case 'multiple':
			return text
				.split(/[\s,]+/)
				.filter(Boolean)
				.map((n) => (isNumber(n) ? Number(n) : n));
		case 'short':
			return lines(text);
		case 'output':
			return text;
		default:
			return null;
	}
}

function answerToForm(kind: unknown, a: unknown): string {
	if (kind === 'single') return String(a);
	if (kind === 'multiple') return (a as number[]).join(', ');
	if (kind === 'short') return (a as string[]).join('\n');
	if (kind === 'output') return String(a ?? '');
	return '';
}

export const QUESTION_FIELDS = {
	ref: field({
		label: 'Ref (stable id)',
		schema: Slug,
		csv: csvText,
		form: { read: (own) => own.trim(), write: (ref) => ref }
	}),
	// The editor picks exam and topic together, as "exam/topic" in the topic input.
	exam: field({
		label: 'Exam',
		schema: Slug,
		csv: csvText,
		form: { read: (_own, form) => (form.topic ?? '').split('/')[0] ?? '' }
	}),
	topic: field({
		label: 'Exam and topic',
		schema: Slug,
		csv: csvText,
		form: { read: (own) => own.split('/')[1] ?? '', write: (topic, q) => `${q.exam}/${topic}` }
	}),
	kind: field({
		label: 'Kind',
		schema: v.picklist(KINDS, 'must be one of single, multiple, short, output, code'),
		csv: csvText,
		form: { ...asIs, blank: 'single' },
		choices: {
			single: 'Single choice',
			multiple: 'Multiple choice',
			short: 'Short answer',
			output: 'Predict the output',
			code: 'Write code'
		} satisfies Record<QuestionKind, string>
	}),
	difficulty: field({
		label: 'Difficulty',
		schema: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3)),
		csv: { read: (c) => (c.trim() === '' ? undefined : Number(c)), write: cell },
		form: { read: Number, write: String, blank: '2' },
		choices: { 1: '1 · easy', 2: '2 · medium', 3: '3 · hard' }
	}),
	prompt: field({ label: 'Prompt (markdown)', schema: Required(5000), csv: csvText, form: asIs }),
	code: field({
		label: 'Code shown with the prompt',
		schema: v.optional(Text(5000), ''),
		csv: csvText,
		form: asIs
	}),
	options: field({
		label: 'Options, one per line (2 to 8)',
		schema: v.optional(v.array(Required(500)), []),
		csv: {
			read: csvJson.read,
			write: (options) => (options.length ? JSON.stringify(options) : '')
		},
		form: { read: lines, write: (options) => options.join('\n') }
	}),
	answer: field({
		label: 'Answer',
		schema: v.optional(
			v.nullable(v.union([v.number(), v.array(v.number()), v.string(), v.array(v.string())])),
			null
		),
		csv: csvJson,
		form: {
			read: (own, form) => answerFromForm(form.kind ?? '', own),
			write: (answer, q) => answerToForm(q.kind, answer)
		}
	}),
	pattern: field({
		label: 'Pattern (optional regular expression, must match the whole answer)',
		schema: v.optional(v.nullable(Text(500)), null),
		csv: { read: (c) => (c === '' ? null : c), write: cell },
		form: { read: (own) => own.trim() || null, write: (pattern) => pattern ?? '' }
	}),
	starterCode: field({
		label: 'Starter code',
		schema: v.optional(Text(20_000), ''),
		csv: csvText,
		form: asIs
	}),
	solutionCode: field({
		label: 'Reference solution (never sent to students)',
		schema: v.optional(Text(20_000), ''),
		csv: csvText,
		form: asIs
	}),
	checks: field({
		label: 'Checks (Python check_* functions, run in the browser)',
		schema: v.optional(Text(20_000), ''),
		csv: csvText,
		form: asIs
	}),
	explanation: field({
		label: 'Explanation (markdown, shown after answering)',
		schema: Required(5000),
		csv: csvText,
		form: asIs
	})
};

type Fields = typeof QUESTION_FIELDS;
export type FieldName = keyof Fields;
/** Every field, in file and CSV column order. */
export const FIELD_NAMES = Object.keys(QUESTION_FIELDS) as FieldName[];

/** Each field's validation, for `v.object` (question-input.ts). */
export const FIELD_SCHEMAS = Object.fromEntries(
	FIELD_NAMES.map((name) => [name, QUESTION_FIELDS[name].schema])
) as { [K in FieldName]: Fields[K]['schema'] };

/** The fields that have an input of their own in the editor. */
export type FormName = {
	[K in FieldName]: Fields[K]['form'] extends { write: unknown } ? K : never;
}[FieldName];
export type QuestionForm = Record<FormName, string>;
export const FORM_NAMES = FIELD_NAMES.filter(
	(name): name is FormName => 'write' in QUESTION_FIELDS[name].form
);
