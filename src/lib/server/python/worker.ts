/**
 * A worker thread holding one Pyodide interpreter that runs exercise checks for the pool (pool.ts).
 * It loads Pyodide from `node_modules/pyodide` (no network), installs the same harness the browser
 * uses plus the server's guard, then locks itself down (lockdown.ts) before taking any code.
 * One request at a time; the pool terminates the thread when a run takes too long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPyodide } from 'pyodide';
import { HARNESS_PY, type CheckResult } from '#lib/learn/harness.ts';
import { GUARD_PY } from './guard.ts';
import { capMemory, closeNode, closePyodide, closeRealm } from './lockdown.ts';
import type { CheckRequest, FromWorker, WorkerSettings } from './protocol.ts';

const port = parentPort!;
const settings = workerData as WorkerSettings;
const send = (message: FromWorker) => port.postMessage(message);
/** Check messages and outputs longer than this are cut: a result crosses threads and is stored. */
const TEXT_LIMIT = 10_000;

type PyFunction = ((...args: string[]) => string) & { destroy(): void };

async function start() {
	const started = performance.now();
	capMemory(settings.memoryBytes);
	const pyodide = await loadPyodide({
		jsglobals: Object.create(null) as object,
		stdout: () => {},
		stderr: () => {},
		env: { HOME: '/home/student' }
	});
	pyodide.runPython(HARNESS_PY);
	if (settings.guard) pyodide.runPython(GUARD_PY);
	const check = pyodide.globals.get(
		settings.guard ? '_tutor_guarded_check' : '_tutor_check'
	) as PyFunction;
	const memory = (pyodide as unknown as { _module: { HEAPU8: Uint8Array } })._module;
	const heapBytes = () => memory.HEAPU8.buffer.byteLength;
	closePyodide(pyodide as unknown as Parameters<typeof closePyodide>[0]);
	closeNode();
	closeRealm();
	return { check, heapBytes, ms: Math.round(performance.now() - started) };
}

function cut(text: string) {
	return text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}…` : text;
}

function trimmed(result: CheckResult): CheckResult {
	return {
		...result,
		stdout: cut(result.stdout),
		stderr: cut(result.stderr),
		error: result.error
			? {
					...result.error,
					message: cut(result.error.message),
					traceback: cut(result.error.traceback)
				}
			: null,
		checks: result.checks.slice(0, 50).map((c) => ({
			name: cut(c.name),
			description: cut(c.description),
			passed: c.passed === true,
			message: cut(c.message)
		}))
	};
}

/** Why the interpreter broke, from the error a call into it threw. */
function reasonOf(error: unknown): 'recursion' | 'memory' | 'fatal' {
	const text = String((error as Error)?.message ?? error);
	if (error instanceof RangeError && /call stack/i.test(text)) return 'recursion';
	if (/call stack|stack overflow|recursion/i.test(text)) return 'recursion';
	if (/memory/i.test(text)) return 'memory';
	return 'fatal';
}

try {
	const { check, heapBytes, ms } = await start();
	send({ type: 'ready', ms });
	port.on('message', (request: CheckRequest) => {
		let text: string;
		try {
			text = check(request.code, request.checks);
		} catch (error) {
			// A Python exception never gets here (the harness catches them all): the interpreter broke.
			send({
				type: 'crashed',
				id: request.id,
				reason: reasonOf(error),
				message: String((error as Error)?.message ?? error).slice(0, 500)
			});
			return;
		}
		if (!text) {
			send({
				type: 'crashed',
				id: request.id,
				reason: 'tampered',
				message: 'the program changed the grader'
			});
			return;
		}
		const result = JSON.parse(text) as CheckResult;
		send({ type: 'result', id: request.id, result: trimmed(result), memoryBytes: heapBytes() });
	});
} catch (error) {
	send({ type: 'failed', message: String((error as Error)?.message ?? error) });
}
