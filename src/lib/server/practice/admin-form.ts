/**
 * The admin question editor's form, to and from the question shape. Option numbers in the form
 * count from 1 (as students see them); the stored key counts from 0.
 */
import type { QuestionInput } from './question-input';

export interface QuestionForm {
	ref: string;
	topic: string;
	kind: string;
	difficulty: string;
	prompt: string;
	code: string;
	options: string;
	answer: string;
	pattern: string;
	starterCode: string;
	solutionCode: string;
	checks: string;
	explanation: string;
}

const FIELDS: (keyof QuestionForm)[] = [
	'ref',
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
];

export function readQuestionForm(data: FormData): QuestionForm {
	const form = {} as QuestionForm;
	for (const f of FIELDS) {
		const value = data.get(f);
		form[f] = typeof value === 'string' ? value.replace(/\r\n?/g, '\n') : '';
	}
	return form;
}

const lines = (text: string) =>
	text
		.split('\n')
		.map((l) => l.trim())
		.filter(Boolean);

/** The form as a raw question for `checkRows` (which reports what is wrong). */
export function formToRaw(form: QuestionForm): Record<string, unknown> {
	const [exam, topic] = form.topic.split('/');
	let answer: unknown = null;
	switch (form.kind) {
		case 'single':
			answer = /^\d+$/.test(form.answer.trim()) ? Number(form.answer.trim()) - 1 : form.answer;
			break;
		case 'multiple':
			answer = form.answer
				.split(/[\s,]+/)
				.filter(Boolean)
				.map((n) => (/^\d+$/.test(n) ? Number(n) - 1 : n));
			break;
		case 'short':
			answer = lines(form.answer);
			break;
		case 'output':
			answer = form.answer;
			break;
	}
	return {
		ref: form.ref.trim(),
		exam: exam ?? '',
		topic: topic ?? '',
		kind: form.kind,
		difficulty: Number(form.difficulty),
		prompt: form.prompt,
		code: form.code,
		options: lines(form.options),
		answer,
		pattern: form.pattern.trim() || null,
		starterCode: form.starterCode,
		solutionCode: form.solutionCode,
		checks: form.checks,
		explanation: form.explanation
	};
}

export function inputToForm(q: QuestionInput): QuestionForm {
	const a = q.answer;
	return {
		ref: q.ref,
		topic: `${q.exam}/${q.topic}`,
		kind: q.kind,
		difficulty: String(q.difficulty),
		prompt: q.prompt,
		code: q.code,
		options: q.options.join('\n'),
		answer:
			q.kind === 'single'
				? String((a as number) + 1)
				: q.kind === 'multiple'
					? (a as number[]).map((n) => n + 1).join(', ')
					: q.kind === 'short'
						? (a as string[]).join('\n')
						: q.kind === 'output'
							? String(a ?? '')
							: '',
		pattern: q.pattern ?? '',
		starterCode: q.starterCode,
		solutionCode: q.solutionCode,
		checks: q.checks,
		explanation: q.explanation
	};
}

export const EMPTY_FORM: QuestionForm = {
	ref: '',
	topic: '',
	kind: 'single',
	difficulty: '2',
	prompt: '',
	code: '',
	options: '',
	answer: '',
	pattern: '',
	starterCode: '',
	solutionCode: '',
	checks: '',
	explanation: ''
};
