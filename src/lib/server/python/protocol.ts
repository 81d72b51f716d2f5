/**
 * Messages between the check pool (main thread) and a Python worker thread. One request at a time per
 * worker; the pool terminates a worker that takes too long rather than asking it to stop.
 */
import type { CheckResult } from '#lib/learn/harness.ts';

/** What the pool hands each worker when it starts it. */
export interface WorkerSettings {
	/** The most WebAssembly memory the interpreter may grow to, in bytes. */
	memoryBytes: number;
	/**
	 * Load the Python-side guard (guard.ts). Always true in the server; the tests turn it off to show
	 * that the JavaScript-side lockdown holds on its own.
	 */
	guard: boolean;
}

export interface CheckRequest {
	id: number;
	code: string;
	checks: string;
}

export type FromWorker =
	| { type: 'ready'; ms: number }
	| { type: 'failed'; message: string }
	| {
			type: 'result';
			id: number;
			result: CheckResult;
			/** The interpreter's WebAssembly memory after the run, in bytes (it never shrinks). */
			memoryBytes: number;
	  }
	/** The interpreter itself broke (stack overflow, a fatal error, changed internals): retire the worker. */
	| {
			type: 'crashed';
			id: number;
			reason: 'recursion' | 'memory' | 'tampered' | 'fatal';
			message: string;
	  };
