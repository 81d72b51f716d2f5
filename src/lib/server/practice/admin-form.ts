/**
 * The admin question editor's form, to and from the question shape. Which inputs there are and how
 * each is read and filled are the question's fields (`#lib/practice/question-fields.ts`).
 */
import {
	FIELD_NAMES,
	FORM_NAMES,
	QUESTION_FIELDS,
	type FieldName,
	type QuestionForm
} from '#lib/practice/question-fields.ts';
import type { QuestionInput } from './question-input';

export type { QuestionForm };

export function readQuestionForm(data: FormData): QuestionForm {
	const form = {} as QuestionForm;
	for (const name of FORM_NAMES) {
		const value = data.get(name);
		form[name] = typeof value === 'string' ? value.replace(/\r\n?/g, '\n') : '';
	}
	return form;
}

/** The form as a raw question for `checkRows` (which reports what is wrong). */
export function formToRaw(form: QuestionForm): Record<string, unknown> {
	const own = form as Partial<Record<FieldName, string>>;
	return Object.fromEntries(
		FIELD_NAMES.map((name) => [name, QUESTION_FIELDS[name].form.read(own[name] ?? '', form)])
	);
}

/** The input of one field; each field's writer takes that field's own value. */
function inputOf<K extends FieldName & keyof QuestionForm>(q: QuestionInput, name: K) {
	const write = QUESTION_FIELDS[name].form.write as (
		v: QuestionInput[K],
		q: QuestionInput
	) => string;
	return write(q[name], q);
}

export function inputToForm(q: QuestionInput): QuestionForm {
	return Object.fromEntries(FORM_NAMES.map((name) => [name, inputOf(q, name)])) as QuestionForm;
}

export const EMPTY_FORM = Object.fromEntries(
	FORM_NAMES.map((name) => {
		const form = QUESTION_FIELDS[name].form;
		return [name, 'blank' in form ? form.blank : ''];
	})
) as QuestionForm;
