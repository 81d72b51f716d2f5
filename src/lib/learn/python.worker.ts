/**
 * The Web Worker that hosts Pyodide for the lesson workspace. It loads Pyodide from the app
 * (never a CDN), installs the harness, then runs code and checks one request at a time. The page
 * terminates the whole worker when a run takes too long.
 */
import { HARNESS_PY } from './harness.ts';
import type { ToPage, ToWorker } from './worker-protocol.ts';

interface Pyodide {
	runPython(code: string): unknown;
	globals: { get(name: string): ((...args: string[]) => string) & { destroy?: () => void } };
}

const scope = self as unknown as {
	postMessage(message: ToPage): void;
	onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
let pyodide: Pyodide | null = null;

async function init(indexURL: string) {
	const started = performance.now();
	try {
		scope.postMessage({ type: 'progress', stage: 'download' });
		const { loadPyodide } = (await import(/* @vite-ignore */ `${indexURL}pyodide.mjs`)) as {
			loadPyodide(options: { indexURL: string; fullStdLib?: boolean }): Promise<Pyodide>;
		};
		const loaded = await loadPyodide({ indexURL });
		scope.postMessage({ type: 'progress', stage: 'start' });
		loaded.runPython(HARNESS_PY);
		pyodide = loaded;
		scope.postMessage({ type: 'ready', ms: Math.round(performance.now() - started) });
	} catch (error) {
		scope.postMessage({ type: 'failed', message: (error as Error).message ?? String(error) });
	}
}

function call(name: string, ...args: string[]) {
	const fn = pyodide!.globals.get(name);
	try {
		return JSON.parse(fn(...args));
	} finally {
		fn.destroy?.();
	}
}

scope.onmessage = (event) => {
	const message = event.data;
	if (message.type === 'init') {
		void init(message.indexURL);
		return;
	}
	if (!pyodide) {
		scope.postMessage({ type: 'failed', message: 'Python is not ready yet.' });
		return;
	}
	try {
		const result =
			message.type === 'run'
				? call('_tutor_run', message.code, message.stdin)
				: call('_tutor_check', message.code, message.checks);
		scope.postMessage({ type: 'result', id: message.id, result });
	} catch (error) {
		scope.postMessage({ type: 'crashed', id: message.id, message: (error as Error).message });
	}
};
