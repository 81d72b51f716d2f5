/**
 * The starter curriculum in `content/starter/`: its shape (the minimums a course needs, every file and
 * frontmatter field present) and, in Pyodide, every exercise's checks passing on `solution.py` and
 * failing on `starter.py`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HARNESS_PY, type CheckResult, type RunResult } from '../../src/lib/learn/harness.ts';

const PACK = fileURLToPath(new URL('../../content/starter/', import.meta.url));
const NUMBERED = /^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$/;
const EXERCISE_FILES = ['exercise.md', 'starter.py', 'solution.py', 'checks.py'];
const LESSON_WORDS = { min: 300, max: 700 };

interface Doc {
	meta: Record<string, unknown>;
	body: string;
}

function readDoc(path: string): Doc {
	const text = readFileSync(path, 'utf8').replace(/\r\n?/g, '\n');
	const match = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(text);
	if (!match) throw new Error(`${path}: no YAML frontmatter`);
	return { meta: parse(match[1]!) ?? {}, body: text.slice(match[0].length).trim() };
}

/** The numbered folders in dir, in order. */
function numbered(dir: string): string[] {
	return readdirSync(dir)
		.filter((name) => NUMBERED.test(name) && statSync(join(dir, name)).isDirectory())
		.sort()
		.map((name) => join(dir, name));
}

const modules = numbered(PACK).map((dir) => ({
	dir,
	name: relative(PACK, dir),
	lessons: numbered(dir).map((lesson) => ({
		dir: lesson,
		name: relative(PACK, lesson),
		exercises: numbered(lesson).map((exercise) => ({
			dir: exercise,
			name: relative(PACK, exercise)
		}))
	}))
}));
const lessons = modules.flatMap((m) => m.lessons);
const exercises = lessons.flatMap((l) => l.exercises);

function pythonFences(markdown: string): string[] {
	return [...markdown.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('starter curriculum shape', () => {
	it('has a pack.md with slug, title, version and a description', () => {
		const pack = readDoc(join(PACK, 'pack.md'));
		expect(pack.meta.slug).toBe('starter');
		expect(pack.meta.title).toEqual(expect.any(String));
		expect(pack.meta.version).toBeDefined();
		expect(pack.body.length).toBeGreaterThan(0);
	});

	it('has at least 6 modules, each with at least 3 lessons and 3 exercises', () => {
		expect(modules.length).toBeGreaterThanOrEqual(6);
		for (const m of modules) {
			expect(m.lessons.length, m.name).toBeGreaterThanOrEqual(3);
			expect(m.lessons.flatMap((l) => l.exercises).length, m.name).toBeGreaterThanOrEqual(3);
		}
	});

	it.each(modules.map((m) => [m.name, m] as const))('module %s has its frontmatter', (_, m) => {
		const doc = readDoc(join(m.dir, 'module.md'));
		expect(doc.meta.title).toEqual(expect.any(String));
		expect(doc.meta.summary).toEqual(expect.any(String));
		expect(doc.meta.status).toBe('published');
	});

	it.each(lessons.map((l) => [l.name, l] as const))(
		'lesson %s has its frontmatter, a fitting length and examples that parse',
		(_, l) => {
			const doc = readDoc(join(l.dir, 'lesson.md'));
			expect(doc.meta.title).toEqual(expect.any(String));
			expect(doc.meta.summary).toEqual(expect.any(String));
			expect(Number.isInteger(doc.meta.minutes) && (doc.meta.minutes as number) > 0).toBe(true);
			const words = doc.body.split(/\s+/).length;
			expect(words).toBeGreaterThanOrEqual(LESSON_WORDS.min);
			expect(words).toBeLessThanOrEqual(LESSON_WORDS.max);
			const examples = pythonFences(doc.body);
			expect(examples.length).toBeGreaterThan(0);
			for (const code of examples) {
				const result = runPython(code);
				expect(result.error?.type ?? '', code).not.toMatch(/SyntaxError|IndentationError/);
			}
		}
	);

	it.each(exercises.map((x) => [x.name, x] as const))(
		'exercise %s has every file and its frontmatter',
		(_, x) => {
			for (const file of EXERCISE_FILES) expect(existsSync(join(x.dir, file)), file).toBe(true);
			const doc = readDoc(join(x.dir, 'exercise.md'));
			expect(doc.meta.title).toEqual(expect.any(String));
			expect([1, 2, 3]).toContain(doc.meta.difficulty);
			expect(doc.body.length).toBeGreaterThan(0);
		}
	);
});

let pyodide: PyodideAPI;

beforeAll(async () => {
	const started = performance.now();
	pyodide = await loadPyodide();
	pyodide.runPython(HARNESS_PY);
	console.info(`Pyodide loaded in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

function call<T>(name: string, ...args: string[]): T {
	const fn = pyodide.globals.get(name);
	try {
		return JSON.parse(fn(...args)) as T;
	} finally {
		fn.destroy();
	}
}

function runPython(code: string): RunResult {
	return call<RunResult>('_tutor_run', code, '');
}

describe.each(exercises.map((x) => [x.name, x] as const))('exercise %s', (_, x) => {
	it('passes every check on solution.py and fails one on starter.py', () => {
		const read = (file: string) => readFileSync(join(x.dir, file), 'utf8');
		const checks = read('checks.py');

		const solved = call<CheckResult>('_tutor_check', read('solution.py'), checks);
		expect(solved.error, 'solution.py raised').toBeNull();
		expect(solved.checks.length).toBeGreaterThanOrEqual(2);
		expect(solved.checks.length).toBeLessThanOrEqual(5);
		for (const c of solved.checks) expect(c, c.name).toMatchObject({ passed: true });
		expect(solved.passed).toBe(true);

		const started = call<CheckResult>('_tutor_check', read('starter.py'), checks);
		expect(started.error, 'starter.py must run without errors').toBeNull();
		expect(started.passed).toBe(false);
		expect(started.checks.some((c) => !c.passed)).toBe(true);
	});
});
