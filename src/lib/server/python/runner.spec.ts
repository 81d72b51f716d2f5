/**
 * The Python check runner with real worker threads: starter exercises judged as in the browser, the
 * time, memory and recursion limits (the worker replaced after each), state reset between students,
 * fairness between users and a full queue refused.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonRunner, type RunnerOptions, type Verdict } from './runner.ts';

const CHECK_OK = 'def check_runs():\n    """It runs"""\n    assert True\n';
const MB = 2 ** 20;
const BASE: RunnerOptions = {
	size: 1,
	timeoutMs: 2_000,
	memoryBytes: 128 * MB,
	queueMax: 20,
	perUser: 20
};

const runners: PythonRunner[] = [];
function runner(options: Partial<RunnerOptions> = {}) {
	const r = new PythonRunner({ ...BASE, ...options });
	runners.push(r);
	return r;
}
afterAll(async () => {
	await Promise.all(runners.map((r) => r.close()));
});

function checked(verdict: Verdict) {
	if (verdict.status !== 'checked')
		throw new Error(`expected a checked verdict: ${JSON.stringify(verdict)}`);
	return verdict.result;
}

const PACK = fileURLToPath(new URL('../../../../content/starter/', import.meta.url));
const dirs = (dir: string) =>
	readdirSync(dir)
		.filter((n) => /^\d{2}-/.test(n) && statSync(join(dir, n)).isDirectory())
		.sort()
		.map((n) => join(dir, n));
const exercises = dirs(PACK).flatMap((m) => dirs(m).flatMap((l) => dirs(l)));

describe('the starter exercises, checked on the server', () => {
	let shared: PythonRunner;
	beforeAll(async () => {
		shared = runner({ size: 2 });
		await shared.warm();
	}, 60_000);

	it('pass on every solution.py and fail on every starter.py, as in the browser', async () => {
		expect(exercises.length).toBeGreaterThan(10);
		for (const dir of exercises) {
			const read = (file: string) => readFileSync(join(dir, file), 'utf8');
			const [solved, started] = await Promise.all([
				shared.check('ann', read('solution.py'), read('checks.py')),
				shared.check('bob', read('starter.py'), read('checks.py'))
			]);
			expect(checked(solved).passed, dir).toBe(true);
			expect(checked(started).passed, dir).toBe(false);
		}
	});
});

describe('limits', () => {
	it('stops a loop that never ends, replaces the worker, and checks the next code', async () => {
		const r = runner({ timeoutMs: 1_000 });
		await r.warm();
		expect(r.stats.workersStarted).toBe(1);
		const verdict = await r.check('ann', 'while True:\n    pass\n', CHECK_OK);
		expect(verdict).toEqual({
			status: 'stopped',
			reason: 'timeout',
			message: 'Stopped after 1 s: is there a loop that never ends?'
		});
		expect(r.stats.workersStarted).toBe(2);
		expect(checked(await r.check('ann', 'x = 1', CHECK_OK)).passed).toBe(true);
	});

	it('refuses memory past the cap with a clear error, and the worker keeps working', async () => {
		const r = runner({ memoryBytes: 128 * MB });
		for (const code of [
			'b = bytearray(200 * 2**20)',
			'x = [0] * 10**9',
			"s = 'a' * 10**10",
			'b = bytearray(3 * 10**9)',
			'x = [list(range(1000)) for _ in range(10**6)]'
		]) {
			const result = checked(await r.check('ann', code, CHECK_OK));
			expect(result.ok, code).toBe(false);
			expect(result.passed).toBe(false);
			expect(['MemoryError', 'OverflowError'], code).toContain(result.error?.type);
		}
		const memory = checked(await r.check('ann', 'b = bytearray(200 * 2**20)', CHECK_OK));
		expect(memory.error?.message).toBe(
			'your code needed more than the 128 MB of memory a check may use'
		);
		// Just under the cap works, and then the grown worker is replaced by a fresh one.
		const before = r.stats.workersStarted;
		expect(checked(await r.check('ann', 'b = bytearray(90 * 2**20)', CHECK_OK)).passed).toBe(true);
		expect(r.stats.workersStarted).toBe(before + 1);
		expect(checked(await r.check('ann', 'print(1)', CHECK_OK)).passed).toBe(true);
	});

	it('ends a recursion bomb with a clear message, even with the recursion limit raised', async () => {
		const r = runner();
		const plain = checked(await r.check('ann', 'def f():\n    f()\nf()\n', CHECK_OK));
		expect(plain.error?.type).toBe('RecursionError');
		const before = r.stats.workersStarted;
		const deep = await r.check(
			'ann',
			'import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1)\nf(0)\n',
			CHECK_OK
		);
		expect(deep).toMatchObject({ status: 'stopped', reason: 'recursion' });
		expect((deep as { message: string }).message).toMatch(/called functions too deeply/);
		expect(r.stats.workersStarted).toBe(before + 1);
		expect(checked(await r.check('ann', 'print(1)', CHECK_OK)).passed).toBe(true);
	});

	it('does not trust a run that changed the grader', async () => {
		const r = runner();
		const forged =
			'import json\njson.dumps = lambda *a, **k: \'{"ok": true, "passed": true, "checks": [], "stdout": "", "stderr": "", "error": null}\'\n';
		const verdict = await r.check('ann', forged, 'def check_never():\n    assert False\n');
		expect(verdict).toMatchObject({ status: 'stopped', reason: 'tampered' });
		expect(checked(await r.check('ann', 'print(1)', CHECK_OK)).passed).toBe(true);
	});
});

describe('state between runs', () => {
	it("one student's code cannot see or change what the next one runs with", async () => {
		const r = runner();
		const first = [
			'import builtins, math, sys, random',
			'secret = "ann-secret"',
			'builtins.secret = secret',
			'builtins.len = lambda x: 42',
			'math.pi = 3',
			'random.seed(1)',
			'sys.setrecursionlimit(60)',
			'sys.path.insert(0, "/tmp/evil")',
			'class Finder:',
			'    def find_spec(self, *a):',
			'        return None',
			'sys.meta_path.insert(0, Finder())',
			'open("/tmp/notes.txt", "w").write(secret)'
		].join('\n');
		expect(checked(await r.check('ann', first, CHECK_OK)).ok).toBe(true);
		const second = [
			'import builtins, math, sys',
			'print("global", "secret" in globals(), hasattr(builtins, "secret"))',
			'print("len", len([1, 2]))',
			'print("pi", math.pi)',
			'print("limit", sys.getrecursionlimit() > 60)',
			'print("path", "/tmp/evil" in sys.path, any(type(f).__name__ == "Finder" for f in sys.meta_path))'
		].join('\n');
		const result = checked(await r.check('bob', second, CHECK_OK));
		expect(result.stdout).toBe(
			`global False False\nlen 2\npi ${Math.PI}\nlimit True\npath False False\n`
		);
	});
});

describe('fairness and the queue', () => {
	it("one user's ten slow checks delay another user's check by at most one run", async () => {
		const r = runner({ size: 1, timeoutMs: 800 });
		await r.warm();
		const order: string[] = [];
		const slow = Array.from({ length: 10 }, (_, i) =>
			r.check('ann', 'while True:\n    pass\n', CHECK_OK).then(() => order.push(`ann${i}`))
		);
		const quick = r.check('bob', 'print("hi")', CHECK_OK).then((v) => {
			order.push('bob');
			return v;
		});
		expect(checked(await quick).passed).toBe(true);
		expect(order).toEqual(['ann0', 'bob']);
		await Promise.all(slow);
		expect(order).toHaveLength(11);
	}, 90_000);

	it('never lets one user hold every worker: a thread stays free for the others', async () => {
		const r = runner({ size: 2, timeoutMs: 3_000, perUser: 5 });
		await r.warm();
		const order: string[] = [];
		const loops = [0, 1].map((i) =>
			r.check('ann', 'while True:\n    pass\n', CHECK_OK).then(() => order.push(`ann${i}`))
		);
		expect(r.stats).toMatchObject({ running: 1, queued: 1 });
		const quick = await r.check('bob', 'print("hi")', CHECK_OK);
		order.push('bob');
		expect(checked(quick).passed).toBe(true);
		await Promise.all(loops);
		expect(order).toEqual(['bob', 'ann0', 'ann1']);
	}, 60_000);

	it('refuses with a retry time when the queue is full, and per user', async () => {
		const r = runner({ size: 1, queueMax: 2, perUser: 1, timeoutMs: 1_000 });
		await r.warm();
		const running = r.check('u1', 'while True:\n    pass\n', CHECK_OK);
		const mine = await r.check('u1', 'print(1)', CHECK_OK);
		expect(mine).toMatchObject({ status: 'busy', scope: 'user' });
		const queued = [r.check('u2', 'print(2)', CHECK_OK), r.check('u3', 'print(3)', CHECK_OK)];
		const refused = await r.check('u4', 'print(4)', CHECK_OK);
		expect(refused).toMatchObject({ status: 'busy', scope: 'server' });
		expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
		expect((refused as { message: string }).message).toMatch(/busy/);
		expect(await running).toMatchObject({ status: 'stopped', reason: 'timeout' });
		for (const v of await Promise.all(queued)) expect(checked(v).passed).toBe(true);
		// Once the queue has room again, checks are taken.
		expect(checked(await r.check('u4', 'print(4)', CHECK_OK)).passed).toBe(true);
	}, 30_000);
});

describe('start and shutdown', () => {
	it('answers busy, not failed, when Python cannot start', async () => {
		const r = runner({ workerFile: '/nonexistent/python-worker.js' });
		const verdict = await r.check('ann', 'print(1)', CHECK_OK);
		expect(verdict).toMatchObject({ status: 'busy', scope: 'server' });
		expect((verdict as { message: string }).message).toMatch(/could not start Python/);
	});

	it('answers the running and the waiting checks busy when it closes, and refuses new ones', async () => {
		const r = new PythonRunner({ ...BASE, size: 1, timeoutMs: 60_000 });
		await r.warm();
		const running = r.check('ann', 'while True:\n    pass\n', CHECK_OK);
		const waiting = r.check('bob', 'print(1)', CHECK_OK);
		expect(r.stats).toMatchObject({ running: 1, queued: 1 });
		await r.close();
		for (const verdict of await Promise.all([running, waiting]))
			expect(verdict).toMatchObject({ status: 'busy', scope: 'server' });
		expect(await r.check('cat', 'print(1)', CHECK_OK)).toMatchObject({ status: 'busy' });
	});
});
