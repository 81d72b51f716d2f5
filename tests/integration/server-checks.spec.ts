/**
 * Exercise passes are decided by the server (issue 24): through the built server's real endpoint, on
 * each database driver. A forged pass (the browser's "all passed" posted with code that fails) is not
 * counted; a real solution passes whatever the browser claimed; hostile code is stopped with a clear
 * message while the server keeps answering; a full queue answers 429 with Retry-After; bad input is a
 * clear 4xx and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithUsers } from '../helpers/app.ts';
import { drivers } from '../helpers/db.ts';
import { ROOT, type Client, type RunningServer } from '../helpers/server.ts';

const LESSON = '/learn/values-and-types/numbers-and-arithmetic';
const DIR = `${ROOT}/content/starter/01-values-and-types/01-numbers-and-arithmetic/01-rectangle-area`;
const read = (file: string) => readFileSync(`${DIR}/${file}`, 'utf8');
const ALL_PASSED = [
	{ name: 'check_area', passed: true },
	{ name: 'check_decimals', passed: true }
];

describe.each(drivers)('server-checked passes on %s', (driver) => {
	let server: RunningServer;
	let ann: Client;
	let ben: Client;
	let admin: Client;
	let exerciseId = '';

	const attempt = (c: Client, body: unknown, id = exerciseId) =>
		c.fetch(`/api/me/exercises/${id}/attempts`, {
			method: 'POST',
			body: typeof body === 'string' ? body : JSON.stringify(body),
			headers: { 'content-type': 'application/json' }
		});

	/** The exercise's attempts and pass as the student's lesson page shows them. */
	async function progress(c: Client) {
		const html = await (await c.fetch(LESSON)).text();
		const at = html.indexOf(`id:"${exerciseId}"`);
		const found = /attempts:(\d+),passed:(true|false)/.exec(html.slice(at));
		return { attempts: Number(found![1]), passed: found![2] === 'true' };
	}

	/** Waits for the runner's gauge (scraped from /metrics) to reach a state. */
	async function until(metric: string, value: number) {
		for (;;) {
			const text = await (await fetch(`${server.url}/metrics`)).text();
			if (new RegExp(`^tutor_python_checks_${metric} ${value}$`, 'm').test(text)) return;
			await new Promise((resolve) => setImmediate(resolve));
		}
	}

	beforeAll(async () => {
		({
			server,
			students: [ann, ben],
			admin
		} = await startAppWithUsers(
			`admin.checks.${driver}@example.com`,
			[`ann.checks.${driver}@example.com`, `ben.checks.${driver}@example.com`],
			{
				postgres: driver === 'postgres',
				env: { PYTHON_CHECK_TIMEOUT_MS: '2000', PYTHON_WORKERS: '1', PYTHON_QUEUE_PER_USER: '1' }
			}
		));
		const html = await (await ann.fetch(LESSON)).text();
		exerciseId = /id:"([0-9a-f-]{36})",slug:"rectangle-area"/.exec(html)![1]!;
	}, 120_000);
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await server?.dropDatabase();
	});

	it('does not count a forged pass: the browser says passed, the code fails', async () => {
		const res = await attempt(ann, { code: read('starter.py'), results: ALL_PASSED, error: null });
		expect(res.status).toBe(200);
		const answer = await res.json();
		expect(answer.passed).toBe(false);
		expect(answer.checks.length).toBeGreaterThanOrEqual(2);
		expect(answer.checks.some((c: { passed: boolean }) => !c.passed)).toBe(true);
		expect(await progress(ann)).toEqual({ attempts: 1, passed: false });
		// Nor does code that only prints what the checks might look for, or an empty program.
		for (const code of ['print("12")', '']) {
			const again = await attempt(ann, { code, results: ALL_PASSED, error: null });
			expect((await again.json()).passed).toBe(false);
		}
		expect(await progress(ann)).toEqual({ attempts: 3, passed: false });
	});

	it('counts a real solution whatever the browser claimed', async () => {
		const res = await attempt(ben, {
			code: read('solution.py'),
			results: [{ name: 'check_area', passed: false }],
			error: 'NameError: forged'
		});
		const answer = await res.json();
		expect(answer).toMatchObject({ passed: true, error: null, stopped: null });
		expect(answer.checks.every((c: { passed: boolean }) => c.passed)).toBe(true);
		expect(await progress(ben)).toEqual({ attempts: 1, passed: true });
		// A client that sends only the code is judged the same way.
		const bare = await attempt(ben, { code: read('solution.py') });
		expect((await bare.json()).passed).toBe(true);
	});

	it('stops a loop that never ends with a clear message; the server keeps answering meanwhile', async () => {
		const looping = attempt(ann, {
			code: 'while True:\n    pass\n',
			results: ALL_PASSED,
			error: null
		});
		await until('running', 1);
		const health = await fetch(`${server.url}/health`);
		expect(health.status).toBe(200);
		// The same student's second check while the first runs: refused, with when to retry.
		const second = await attempt(ann, { code: read('solution.py') });
		expect(second.status).toBe(429);
		expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect((await second.json()).message).toMatch(/earlier checks are still running/);
		const answer = await (await looping).json();
		expect(answer).toMatchObject({
			passed: false,
			stopped: 'Stopped after 2 s: is there a loop that never ends?'
		});
		expect(await progress(ann)).toEqual({ attempts: 4, passed: false });
		// Hostile code is answered, and the next check works.
		for (const code of [
			'b = bytearray(3 * 10**9)',
			'import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1)\nf(0)',
			'print(open("/etc/passwd").read())',
			'import os\nos._exit(1)'
		]) {
			const hostile = await (await attempt(ann, { code })).json();
			expect(hostile.passed, code).toBe(false);
			expect(JSON.stringify(hostile)).not.toContain('root:x:0');
			expect(hostile.error ?? hostile.stopped, code).toBeTruthy();
		}
		const ok = await (await attempt(ann, { code: read('solution.py') })).json();
		expect(ok.passed).toBe(true);
		expect(server.child.exitCode).toBeNull();
	}, 60_000);

	it('grades a write-code practice answer by running its checks, whatever the browser says', async () => {
		// pe-vt-10: to_celsius(f), from content/questions/01-python-entry.yaml.
		const list = await (await admin.fetch('/admin/questions?kind=code')).text();
		let questionId = '';
		for (const [, id] of list.matchAll(/\/admin\/questions\/([0-9a-f-]{36})/g)) {
			if ((await (await admin.fetch(`/admin/questions/${id}`)).text()).includes('pe-vt-10')) {
				questionId = id!;
				break;
			}
		}
		expect(questionId).not.toBe('');
		const answer = (code: string, passed: boolean) =>
			ben.fetch('/api/me/practice/answers', {
				method: 'POST',
				body: JSON.stringify({
					questionId,
					given: { code, passed },
					timeMs: 30_000,
					mode: 'practice'
				}),
				headers: { 'content-type': 'application/json' }
			});
		const forged = await answer('def to_celsius(f):\n    pass\n', true);
		expect(forged.status).toBe(200);
		expect((await forged.json()).correct).toBe(false);
		const solved = await answer(
			'def to_celsius(f):\n    return round((f - 32) * 5 / 9, 1)\n',
			false
		);
		expect((await solved.json()).correct).toBe(true);
	});

	it('answers bad input with a clear 4xx and changes nothing', async () => {
		const before = await progress(ben);
		const cases: [string, () => Promise<Response>, number][] = [
			['not JSON', () => attempt(ben, '{"code": '), 400],
			['no code', () => attempt(ben, { results: [] }), 400],
			['code over the limit', () => attempt(ben, { code: 'x'.repeat(25_000) }), 400],
			['body too large', () => attempt(ben, { code: 'x'.repeat(200_001) }), 413],
			['forged results only', () => attempt(ben, { results: ALL_PASSED, error: null }), 400],
			['bad id', () => attempt(ben, { code: 'print(1)' }, 'not-a-uuid'), 404],
			[
				'unknown exercise',
				() => attempt(ben, { code: 'print(1)' }, '00000000-0000-4000-8000-000000000000'),
				404
			],
			[
				'wrong content type',
				() =>
					ben.fetch(`/api/me/exercises/${exerciseId}/attempts`, {
						method: 'POST',
						body: JSON.stringify({ code: 'print(1)' }),
						headers: { 'content-type': 'text/plain' }
					}),
				415
			]
		];
		for (const [name, send, status] of cases) {
			const res = await send();
			expect(res.status, name).toBe(status);
		}
		expect(await progress(ben)).toEqual(before);
	});
});
