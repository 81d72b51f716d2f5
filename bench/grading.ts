/**
 * Server-checked exercise passes under a class's load, through the built server's real endpoint.
 *
 * STUDENTS students each submit EACH starter exercises at random moments within WINDOW seconds (a
 * student waits for the answer to their previous check before sending the next, as the page does):
 * 80 % the exercise's solution.py, 20 % its starter.py, which must fail. Reported: submissions checked
 * per second, the wait for an answer (p50, p95, max), refusals (429/503), wrong verdicts (there must be
 * none), and `/health` latency polled one request at a time throughout the load (p50, p99).
 *
 * The baseline, in this same process before the server starts: the same submissions, checked one after
 * another by `_tutor_check` in one Pyodide instance loaded with the same harness (no HTTP, no database,
 * no queue, no isolation). WINDOW=0 sends everything at once, which measures capacity.
 *
 *   npm run build && npx node bench/grading.ts [students=200] [window=60] [each=5]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadPyodide } from 'pyodide';
import { HARNESS_PY } from '../src/lib/learn/harness.ts';
import { root, serverNodeFlags, start } from './lib.ts';

const STUDENTS = Number(process.argv[2] ?? 200);
const WINDOW_S = Number(process.argv[3] ?? 60);
const EACH = Number(process.argv[4] ?? 5);
const PASSWORD = 'bench password 1';

/** A small seeded generator, so every run replays the same class. */
function rng(seed: number) {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}
const numbered = (dir: string) =>
	readdirSync(dir)
		.filter((n) => /^\d{2}-/.test(n))
		.sort();
const slug = (folder: string) => folder.replace(/^\d{2}-/, '');

const starter = path.join(root, 'content/starter');
const exercises = numbered(starter).flatMap((m) =>
	numbered(path.join(starter, m)).flatMap((l) =>
		numbered(path.join(starter, m, l))
			.filter((x) => !x.includes('.'))
			.map((x) => {
				const dir = path.join(starter, m, l, x);
				const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
				return {
					page: `/learn/${slug(m)}/${slug(l)}`,
					slug: slug(x),
					solution: read('solution.py'),
					starter: read('starter.py'),
					checks: read('checks.py')
				};
			})
	)
);

interface Submission {
	student: number;
	at: number;
	exercise: (typeof exercises)[number];
	solved: boolean;
}
function workload(): Submission[] {
	const r = rng(20261207);
	const all: Submission[] = [];
	for (let student = 0; student < STUDENTS; student++)
		for (let k = 0; k < EACH; k++)
			all.push({
				student,
				at: r() * WINDOW_S * 1000,
				exercise: exercises[Math.floor(r() * exercises.length)]!,
				solved: r() < 0.8
			});
	return all.sort((a, b) => a.at - b.at);
}

const percentile = (values: number[], p: number) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function baseline(submissions: Submission[]) {
	const pyodide = await loadPyodide();
	pyodide.runPython(HARNESS_PY);
	const check = pyodide.globals.get('_tutor_check');
	const started = performance.now();
	let wrong = 0;
	for (const s of submissions) {
		const result = JSON.parse(
			check(s.solved ? s.exercise.solution : s.exercise.starter, s.exercise.checks)
		);
		if (result.passed !== s.solved) wrong++;
	}
	const seconds = (performance.now() - started) / 1000;
	check.destroy();
	return { perSecond: submissions.length / seconds, wrong };
}

/** The class's submissions through the built server; returns the checks per second it achieved. */
async function serve(submissions: Submission[]) {
	const port = 4300 + Math.floor(Math.random() * 600);
	const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-grading-'));
	const app = await start(
		[...serverNodeFlags, 'build/app.js'],
		{
			PORT: String(port),
			DATA_DIR: dataDir,
			LLM_PROVIDER: 'mock',
			LOG_LEVEL: 'warn',
			...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
			RATE_LIMIT_ENABLED: 'false',
			REGISTER_RATE_LIMIT: '10000',
			...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
			...Object.fromEntries(
				Object.entries(process.env)
					.filter(([k]) => k.startsWith('PYTHON_'))
					.map(([k, v]) => [k, v ?? ''])
			)
		},
		(p) => `http://127.0.0.1:${p}/health`
	);
	const base_ = `http://127.0.0.1:${port}`;
	try {
		const cookies: string[] = [];
		for (let s = 0; s < STUDENTS; s++) {
			const res = await fetch(`${base_}/register`, {
				method: 'POST',
				redirect: 'manual',
				headers: { origin: base_, 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({
					email: `grader${s}@example.com`,
					displayName: `s${s}`,
					password: PASSWORD
				})
			});
			cookies.push(
				res.headers
					.getSetCookie()
					.map((c) => c.split(';')[0])
					.join('; ')
			);
		}
		const ids = new Map<string, string>();
		for (const page of new Set(exercises.map((x) => x.page))) {
			const html = await (await fetch(base_ + page, { headers: { cookie: cookies[0]! } })).text();
			for (const m of html.matchAll(/id:"([0-9a-f-]{36})",slug:"([a-z0-9-]+)"/g))
				ids.set(m[2]!, m[1]!);
		}
		const post = (s: Submission) =>
			fetch(`${base_}/api/me/exercises/${ids.get(s.exercise.slug)}/attempts`, {
				method: 'POST',
				headers: { origin: base_, cookie: cookies[s.student]!, 'content-type': 'application/json' },
				body: JSON.stringify({ code: s.solved ? s.exercise.solution : s.exercise.starter })
			});
		// Warm the workers (they start with the first check), as a running server would be.
		await Promise.all([0, 1, 2, 3].map(() => post(submissions[0]!)));

		const waits: number[] = [];
		const health: number[] = [];
		let refused = 0;
		let wrong = 0;
		let done = false;
		const probe = (async () => {
			while (!done) {
				const t = performance.now();
				await (await fetch(`${base_}/health`)).text();
				health.push(performance.now() - t);
			}
		})();
		const started = performance.now();
		const byStudent = new Map<number, Submission[]>();
		for (const s of submissions) byStudent.set(s.student, [...(byStudent.get(s.student) ?? []), s]);
		await Promise.all(
			[...byStudent.values()].map(async (mine) => {
				for (const s of mine) {
					const delay = started + s.at - performance.now();
					if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
					const t = performance.now();
					const res = await post(s);
					const body = (await res.json()) as { passed?: boolean };
					waits.push(performance.now() - t);
					if (res.status === 429 || res.status === 503) refused++;
					else if (body.passed !== s.solved) wrong++;
				}
			})
		);
		const seconds = (performance.now() - started) / 1000;
		done = true;
		await probe;
		const checked = submissions.length - refused;
		console.log(
			`server: ${checked} checked in ${seconds.toFixed(1)} s = ${(checked / seconds).toFixed(1)} checks/s; refused ${refused}; wrong verdicts ${wrong}`
		);
		console.log(
			`wait for the verdict: p50 ${ms(percentile(waits, 50))}, p95 ${ms(percentile(waits, 95))}, max ${ms(Math.max(...waits))}`
		);
		console.log(
			`/health under load (${health.length} requests): p50 ${ms(percentile(health, 50))}, p99 ${ms(percentile(health, 99))}`
		);
		return checked / seconds;
	} finally {
		const exited = new Promise((resolve) => app.child.once('exit', resolve));
		app.child.kill('SIGTERM');
		await exited;
	}
}

async function main() {
	const submissions = workload();
	console.log(
		`${STUDENTS} students, ${submissions.length} submissions over ${WINDOW_S} s (${exercises.length} exercises, 80 % solutions)`
	);
	// The baseline before and after the server's run, so a noisy minute of the host shows.
	const before = await baseline(submissions);
	const perSecond = await serve(submissions);
	const after = await baseline(submissions);
	for (const [when, b] of [
		['before', before],
		['after', after]
	] as const)
		console.log(
			`baseline ${when}, one Pyodide in a loop: ${b.perSecond.toFixed(1)} checks/s, wrong verdicts ${b.wrong}`
		);
	const mean = (before.perSecond + after.perSecond) / 2;
	if (WINDOW_S === 0)
		console.log(
			`capacity vs baseline (mean of before and after): ${(perSecond / mean).toFixed(2)}x`
		);
}

await main();
