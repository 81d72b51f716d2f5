/**
 * The content editor's forms: valibot schemas for a module, lesson and exercise, and `parse`, which
 * turns a submitted form into typed values or one message per bad field for the page to show.
 *
 * @example
 * const parsed = parse(LessonInput, ['title', 'slug', 'summary', 'minutes', 'body', 'status'], form);
 * if (!parsed.ok) return fail(400, { values: parsed.values, errors: parsed.errors });
 */
import * as v from 'valibot';
import { PACK_LIMITS } from '#lib/server/learn/pack.ts';

const slug = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(1, 'Enter a slug.'),
	v.maxLength(80, 'Keep the slug under 80 characters.'),
	v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'Use lower-case letters, digits and single dashes.')
);
const title = v.pipe(
	v.string(),
	v.trim(),
	v.minLength(1, 'Enter a title.'),
	v.maxLength(200, 'Keep the title under 200 characters.')
);
const summary = v.pipe(
	v.string(),
	v.trim(),
	v.maxLength(1000, 'Keep the summary under 1000 characters.')
);
const markdown = (what: string, required = false) =>
	v.pipe(
		v.string(),
		v.transform((s) => s.replace(/\r\n?/g, '\n')),
		required ? v.check((s) => s.trim().length > 0, `Write the ${what}.`) : v.check(() => true),
		v.maxLength(
			PACK_LIMITS.fileBytes,
			`Keep the ${what} under ${PACK_LIMITS.fileBytes} characters.`
		)
	);
const code = (what: string, required = false) =>
	v.pipe(
		v.string(),
		v.transform((s) => s.replace(/\r\n?/g, '\n')),
		required ? v.check((s) => s.trim().length > 0, `Write the ${what}.`) : v.check(() => true),
		v.maxLength(100_000, `Keep the ${what} under 100000 characters.`)
	);
const status = v.picklist(['draft', 'published'], 'Choose draft or published.');

export const ModuleInput = v.object({
	title,
	slug,
	summary,
	body: markdown('introduction'),
	status
});
export const LessonInput = v.object({
	title,
	slug,
	summary,
	minutes: v.pipe(
		v.string(),
		v.regex(/^\d{1,3}$/, 'Enter whole minutes, 1 to 600.'),
		v.transform(Number),
		v.minValue(1, 'Enter whole minutes, 1 to 600.'),
		v.maxValue(600, 'Enter whole minutes, 1 to 600.')
	),
	body: markdown('lesson text', true),
	status
});
export const ExerciseInput = v.object({
	title,
	slug,
	difficulty: v.pipe(v.picklist(['1', '2', '3'], 'Choose a difficulty.'), v.transform(Number)),
	prompt: markdown('prompt', true),
	starterCode: code('starter code'),
	solutionCode: code('reference solution', true),
	checks: v.pipe(
		code('checks', true),
		v.regex(/^def check_\w+\s*\(/m, 'Define at least one check: a function named check_…'),
		v.check((s) => !/^\t/m.test(s), 'Indent the checks with spaces, not tabs.')
	)
});
/**
 * The code a passing "Run checks" in the editor used, sent with the save as JSON
 * `[starter, solution, checks]`; null when there was no passing run or it cannot be read.
 */
export function readVerifiedRun(form: FormData) {
	const text = form.get('verifiedRun');
	if (typeof text !== 'string' || !text) return null;
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return null;
	}
	const run = v.safeParse(v.tuple([v.string(), v.string(), v.string()]), parsed);
	if (!run.success) return null;
	const [starterCode, solutionCode, checks] = run.output.map((s) => s.replace(/\r\n?/g, '\n'));
	return { starterCode: starterCode!, solutionCode: solutionCode!, checks: checks! };
}

export type ModuleValues = v.InferOutput<typeof ModuleInput>;
export type LessonValues = v.InferOutput<typeof LessonInput>;
export type ExerciseValues = v.InferOutput<typeof ExerciseInput>;

export type Parsed<T> =
	| { ok: true; values: T }
	| { ok: false; values: Record<string, string>; errors: Record<string, string> };

/** Validates a form: the typed values, or the submitted text and one message per bad field. */
export function parse<S extends v.GenericSchema>(
	schema: S,
	fields: string[],
	form: FormData
): Parsed<v.InferOutput<S>> {
	const raw: Record<string, string> = {};
	for (const name of fields) {
		const value = form.get(name);
		raw[name] = typeof value === 'string' ? value : '';
	}
	const result = v.safeParse(schema, raw);
	if (result.success) return { ok: true, values: result.output };
	const errors: Record<string, string> = {};
	for (const issue of result.issues) {
		const key = v.getDotPath(issue) ?? 'form';
		errors[key] ??= issue.message;
	}
	return { ok: false, values: raw, errors };
}
