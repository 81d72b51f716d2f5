/**
 * Python for the lesson page: one Pyodide worker, started when the page opens, restarted after a
 * run that hits the time limit (the only way to stop a runaway loop in the browser).
 *
 * @example
 * const python = new PythonRunner();
 * const outcome = await python.run('print(1 + 1)');
 * if (outcome.kind === 'result') console.log(outcome.result.stdout);
 */
import type { CheckResult, RunResult } from './harness.ts';
import { RUN_TIME_LIMIT_MS } from './limits.ts';
import { PYODIDE_URL } from './pyodide-version.ts';
import type { ToPage, ToWorker } from './worker-protocol.ts';

export type RunnerStatus = 'loading' | 'ready' | 'busy' | 'failed';
export type Outcome<R> =
	| { kind: 'result'; result: R }
	| { kind: 'timeout'; seconds: number }
	| { kind: 'failed'; message: string };

type Pending = { id: number; resolve: (outcome: Outcome<RunResult | CheckResult>) => void };

export class PythonRunner {
	status = $state<RunnerStatus>('loading');
	/** What the loading indicator says, and how far along it is (0 to 1). */
	stage = $state('Starting Python…');
	progress = $state(0.1);
	startMs = $state<number | null>(null);
	failure = $state<string | null>(null);

	#worker: Worker | null = null;
	#ready: Promise<void> = Promise.resolve();
	#pending: Pending | null = null;
	#nextId = 1;
	#timeLimitMs: number;

	constructor(options: { timeLimitMs?: number } = {}) {
		this.#timeLimitMs = options.timeLimitMs ?? RUN_TIME_LIMIT_MS;
		this.#start();
	}

	#start() {
		this.status = 'loading';
		this.stage = 'Downloading Python…';
		this.progress = 0.15;
		this.failure = null;
		// Vite bundles the worker from this exact `new URL(..., import.meta.url)` form.
		// eslint-disable-next-line svelte/prefer-svelte-reactivity
		const worker = new Worker(new URL('./python.worker.ts', import.meta.url), { type: 'module' });
		this.#worker = worker;
		this.#ready = new Promise((resolve) => {
			worker.onmessage = (event: MessageEvent<ToPage>) => {
				const message = event.data;
				switch (message.type) {
					case 'progress':
						this.stage =
							message.stage === 'download' ? 'Downloading Python…' : 'Starting the interpreter…';
						this.progress = message.stage === 'download' ? 0.3 : 0.85;
						break;
					case 'ready':
						this.status = 'ready';
						this.progress = 1;
						this.startMs = message.ms;
						resolve();
						break;
					case 'failed':
						this.status = 'failed';
						this.failure = message.message;
						resolve();
						break;
					case 'result':
					case 'crashed': {
						const pending = this.#pending;
						if (!pending || pending.id !== message.id) return;
						this.#pending = null;
						this.status = 'ready';
						pending.resolve(
							message.type === 'result'
								? { kind: 'result', result: message.result }
								: { kind: 'failed', message: message.message }
						);
					}
				}
			};
			worker.onerror = (event) => {
				this.status = 'failed';
				this.failure = event.message || 'The Python worker could not start.';
				resolve();
			};
		});
		this.#post({ type: 'init', indexURL: PYODIDE_URL });
	}

	#post(message: ToWorker) {
		this.#worker?.postMessage(message);
	}

	run(code: string, stdin = ''): Promise<Outcome<RunResult>> {
		return this.#request((id) => ({ type: 'run', id, code, stdin })) as Promise<Outcome<RunResult>>;
	}

	check(code: string, checks: string): Promise<Outcome<CheckResult>> {
		return this.#request((id) => ({ type: 'check', id, code, checks })) as Promise<
			Outcome<CheckResult>
		>;
	}

	async #request(make: (id: number) => ToWorker): Promise<Outcome<RunResult | CheckResult>> {
		await this.#ready;
		if (this.status === 'failed')
			return { kind: 'failed', message: this.failure ?? 'Python could not start.' };
		if (this.#pending) return { kind: 'failed', message: 'Python is still busy with a run.' };
		const id = this.#nextId++;
		this.status = 'busy';
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				if (this.#pending?.id !== id) return;
				this.#pending = null;
				// A loop that never ends cannot be interrupted from outside: replace the worker.
				this.#worker?.terminate();
				this.#start();
				resolve({ kind: 'timeout', seconds: Math.round(this.#timeLimitMs / 1000) });
			}, this.#timeLimitMs);
			this.#pending = {
				id,
				resolve: (outcome) => {
					clearTimeout(timer);
					resolve(outcome);
				}
			};
			this.#post(make(id));
		});
	}

	/** Stops a run in progress now (the Stop button): same as hitting the time limit. */
	stop() {
		const pending = this.#pending;
		if (!pending) return;
		this.#pending = null;
		this.#worker?.terminate();
		this.#start();
		pending.resolve({ kind: 'timeout', seconds: 0 });
	}

	destroy() {
		this.#worker?.terminate();
		this.#worker = null;
	}
}
