/**
 * The seeded question bank in `content/questions/`: its size and spread (2+ exams, 150+ questions,
 * 10+ topics, every kind), and every key checked: choice keys index real options, short answers are
 * accepted by the grader, predict-the-output answers are what the code prints when run in Pyodide, and
 * write-code checks pass on the reference solution and fail on the starter.
 */
import { fileURLToPath } from 'node:url';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_PY, type CheckResult, type RunResult } from '../../src/lib/learn/harness.ts';
import type { Question } from '../../src/lib/server/db/schema.ts';
import { readBankDir } from '../../src/lib/server/practice/bank.ts';
import {
	normalizeOutput,
	storedKey,
	type QuestionInput
} from '../../src/lib/server/practice/question-input.ts';
import { grade } from '../../src/lib/server/practice/grade.ts';

const DIR = fileURLToPath(new URL('../../content/questions/', import.meta.url));
const files = await readBankDir(DIR);
const all = files.flatMap((f) => f.questions);
const ofKind = (kind: QuestionInput['kind']) =>
	all.filter((q) => q.kind === kind).map((q) => [q.ref, q] as const);

/** A bank question as a stored row, for the grader. */
const row = (q: QuestionInput) =>
	({ ...q, answer: storedKey(q), id: q.ref, examId: '', topicId: '' }) as unknown as Question;

describe('question bank shape', () => {
	it('has at least 2 exams, 150 questions and 10 topics, with every kind', () => {
		expect(files.map((f) => f.exam.slug)).toEqual(
			expect.arrayContaining(['python-entry', 'intro-midterm'])
		);
		expect(all.length).toBeGreaterThanOrEqual(150);
		expect(files.reduce((n, f) => n + f.topics.length, 0)).toBeGreaterThanOrEqual(10);
		expect(new Set(all.map((q) => q.kind))).toEqual(
			new Set(['single', 'multiple', 'short', 'output', 'code'])
		);
	});

	it('gives every question an explanation, a difficulty and a unique ref', () => {
		for (const q of all) {
			expect(q.explanation.length, q.ref).toBeGreaterThan(10);
			expect([1, 2, 3], q.ref).toContain(q.difficulty);
		}
		expect(new Set(all.map((q) => q.ref)).size).toBe(all.length);
	});

	it('has every difficulty in every skill area (the diagnostic needs them)', () => {
		const areas = new Map<string, Set<number>>();
		for (const f of files)
			for (const q of f.questions) {
				const area = f.topics.find((t) => t.slug === q.topic)!.area;
				if (q.kind !== 'code')
					(areas.get(area) ?? areas.set(area, new Set()).get(area)!).add(q.difficulty);
			}
		for (const [area, set] of areas) expect([...set].sort(), area).toEqual([1, 2, 3]);
	});
});

describe('choice keys', () => {
	it.each([...ofKind('single'), ...ofKind('multiple')])(
		'%s: the key indexes existing options and grades right',
		(_, q) => {
			// Files number options from 1; the stored key (what grading uses) from 0.
			const key = storedKey(q)!.key;
			const keys = Array.isArray(key) ? (key as number[]) : [key as number];
			for (const k of keys) expect(q.options[k], `option ${k}`).toBeDefined();
			const given = q.kind === 'single' ? { choice: keys[0] } : { choices: keys };
			expect(grade(row(q), given).correct).toBe(true);
			// Some other choice is wrong.
			const other = q.options.findIndex((_, i) => !keys.includes(i));
			expect(
				grade(row(q), q.kind === 'single' ? { choice: other } : { choices: [other] }).correct
			).toBe(false);
		}
	);

	it.each(ofKind('short'))('%s: every accepted answer grades right', (_, q) => {
		for (const a of q.answer as string[])
			expect(grade(row(q), { text: ` ${a} ` }).correct, a).toBe(true);
		expect(grade(row(q), { text: 'definitely not it' }).correct).toBe(false);
	});
});

describe('keys checked in Pyodide', () => {
	let pyodide: PyodideAPI;
	beforeAll(async () => {
		pyodide = await loadPyodide();
		pyodide.runPython(HARNESS_PY);
	}, 120_000);

	function call<T>(name: string, ...args: string[]): T {
		const fn = pyodide.globals.get(name);
		try {
			return JSON.parse(fn(...args)) as T;
		} finally {
			fn.destroy();
		}
	}

	it.each(ofKind('output'))('%s: the answer is what the code prints', (_, q) => {
		const result = call<RunResult>('_tutor_run', q.code, '');
		expect(result.error, 'the code raised').toBeNull();
		expect(normalizeOutput(result.stdout)).toBe(normalizeOutput(q.answer as string));
		expect(grade(row(q), { text: result.stdout }).correct).toBe(true);
	});

	it.each(ofKind('code'))('%s: checks pass on the solution and fail on the starter', (_, q) => {
		const solved = call<CheckResult>('_tutor_check', q.solutionCode, q.checks);
		expect(solved.error).toBeNull();
		expect(solved.checks.length).toBeGreaterThanOrEqual(1);
		expect(solved.passed).toBe(true);
		const started = call<CheckResult>('_tutor_check', q.starterCode, q.checks);
		expect(started.passed).toBe(false);
	});
});
