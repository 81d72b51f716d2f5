/**
 * A fixed number of worker threads, each holding one Pyodide (worker.ts). A slot runs one check at a
 * time and enforces the time limit by terminating its thread; a thread that broke, ran out of time
 * or grew its memory past half the cap is replaced by a fresh one at once.
 *
 * @example
 * const pool = new WorkerPool({ size: 2, timeoutMs: 5000, memoryBytes: 256 * 2 ** 20 });
 * const slot = pool.idleSlot();
 * const outcome = await slot!.run(code, checks);
 * await pool.close();
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckResult } from '#lib/learn/harness.ts';
import type { FromWorker, WorkerSettings } from './protocol.ts';

export type Outcome =
	| { kind: 'checked'; result: CheckResult }
	| { kind: 'timeout' }
	| { kind: 'crashed'; reason: 'recursion' | 'memory' | 'tampered' | 'fatal'; message: string }
	| { kind: 'unavailable'; message: string };

export interface PoolOptions {
	size: number;
	timeoutMs: number;
	memoryBytes: number;
	/** The worker's file; found next to this module (source) or in build/ (the built server). */
	workerFile?: string;
	/** The Python-side guard (guard.ts); only the tests of the JavaScript lockdown turn it off. */
	guard?: boolean;
}

/** worker.ts beside this file when running from source; build/python-worker.js when built. */
export function defaultWorkerFile(): string {
	if (import.meta.url.endsWith('.ts'))
		return fileURLToPath(new URL('./worker.ts', import.meta.url));
	for (const candidate of ['./python-worker.js', '../python-worker.js']) {
		const file = fileURLToPath(new URL(candidate, import.meta.url));
		if (existsSync(file)) return file;
	}
	throw new Error('python-worker.js is missing from the build');
}

class Slot {
	busy = false;
	#worker: Worker | null = null;
	#ready: Promise<Worker> | null = null;
	#nextId = 0;
	#closed = false;

	constructor(
		private readonly options: Required<PoolOptions>,
		private readonly onStart: () => void
	) {}

	warm() {
		this.#ready ??= this.#spawn();
		return this.#ready;
	}

	#spawn(): Promise<Worker> {
		this.onStart();
		const settings: WorkerSettings = {
			memoryBytes: this.options.memoryBytes,
			guard: this.options.guard
		};
		let worker: Worker;
		try {
			worker = new Worker(this.options.workerFile, {
				workerData: settings,
				// The thread sees no environment (no secrets), and its JS heap is capped; WebAssembly
				// memory is capped inside the thread (lockdown.ts).
				env: {},
				resourceLimits: { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 32 }
			});
		} catch (error) {
			// Not remembered: the next check tries again.
			queueMicrotask(() => (this.#ready = null));
			return Promise.reject(error as Error);
		}
		this.#worker = worker;
		// An idle thread that dies (or errs) is forgotten; the next check starts a fresh one.
		worker.on('error', () => {});
		worker.once('exit', () => {
			if (this.#worker !== worker) return;
			this.#worker = null;
			this.#ready = null;
		});
		return new Promise<Worker>((resolve, reject) => {
			const settle = (error: Error | null) => {
				worker.off('message', onMessage);
				worker.off('error', onFail);
				worker.off('exit', onExit);
				if (!error) return resolve(worker);
				void worker.terminate();
				reject(error);
			};
			const onFail = (error: Error) => settle(error);
			const onExit = () => settle(new Error('the Python worker stopped while starting'));
			const onMessage = (message: FromWorker) => {
				if (message.type === 'ready') settle(null);
				else if (message.type === 'failed') settle(new Error(message.message));
			};
			worker.on('message', onMessage);
			worker.on('error', onFail);
			worker.on('exit', onExit);
		});
	}

	/** Ends this slot's thread and starts a fresh one (unless the pool is closing). */
	#replace(worker: Worker) {
		if (this.#worker !== worker) return;
		this.#worker = null;
		this.#ready = null;
		void worker.terminate();
		if (!this.#closed) this.warm().catch(() => {});
	}

	async run(code: string, checks: string): Promise<Outcome> {
		let worker: Worker;
		try {
			worker = await this.warm();
		} catch (error) {
			return { kind: 'unavailable', message: (error as Error).message };
		}
		const id = ++this.#nextId;
		return new Promise<Outcome>((resolve) => {
			const finish = (outcome: Outcome, replace: boolean) => {
				clearTimeout(timer);
				worker.off('message', onMessage);
				worker.off('exit', onExit);
				worker.off('error', onError);
				if (replace) this.#replace(worker);
				resolve(outcome);
			};
			const onMessage = (message: FromWorker) => {
				if (message.type === 'result' && message.id === id)
					finish(
						{ kind: 'checked', result: message.result },
						message.memoryBytes > this.options.memoryBytes / 2
					);
				else if (message.type === 'crashed' && message.id === id)
					finish({ kind: 'crashed', reason: message.reason, message: message.message }, true);
			};
			let lastError: Error | null = null;
			const onError = (error: Error) => (lastError = error);
			const onExit = () => {
				const code = (lastError as { code?: string } | null)?.code;
				const memory = code === 'ERR_WORKER_OUT_OF_MEMORY';
				finish(
					{
						kind: 'crashed',
						reason: memory ? 'memory' : 'fatal',
						message: lastError?.message ?? 'the Python worker exited'
					},
					true
				);
			};
			const timer = setTimeout(() => finish({ kind: 'timeout' }, true), this.options.timeoutMs);
			worker.on('message', onMessage);
			worker.on('error', onError);
			worker.once('exit', onExit);
			worker.postMessage({ id, code, checks });
		});
	}

	async close() {
		this.#closed = true;
		const worker = this.#worker;
		this.#worker = null;
		this.#ready = null;
		if (worker) await worker.terminate();
	}
}

export class WorkerPool {
	readonly #slots: Slot[];
	#started = 0;

	constructor(options: PoolOptions) {
		const full = {
			...options,
			guard: options.guard ?? true,
			workerFile: options.workerFile ?? defaultWorkerFile()
		};
		this.#slots = Array.from(
			{ length: Math.max(1, options.size) },
			() => new Slot(full, () => this.#started++)
		);
	}

	get size() {
		return this.#slots.length;
	}

	/** Threads started so far, replacements included. */
	get workersStarted() {
		return this.#started;
	}

	get running() {
		return this.#slots.filter((s) => s.busy).length;
	}

	/** Starts every thread now rather than on the first check. */
	async warm() {
		await Promise.all(this.#slots.map((s) => s.warm()));
	}

	idleSlot() {
		return this.#slots.find((s) => !s.busy);
	}

	async close() {
		await Promise.all(this.#slots.map((s) => s.close()));
	}
}

export type { Slot };
