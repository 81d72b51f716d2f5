/**
 * The server's Python check runner (lib/server/python): how many Pyodide worker threads, and the
 * limits of one check and of the queue in front of them.
 *
 * @example
 * const python = pythonSettings(env); // { workers: 2, timeoutMs: 5000, memoryBytes: 256 MiB, ... }
 */
import { availableParallelism } from 'node:os';
import type { Env } from './env';
import type { Config } from './types';

/** Each thread holds a Pyodide of about 30 MB that grows with the code it runs (up to the cap). */
export function pythonSettings(env: Env): Config['python'] {
	return {
		workers: env.PYTHON_WORKERS ?? Math.min(2, availableParallelism()),
		timeoutMs: env.PYTHON_CHECK_TIMEOUT_MS,
		memoryBytes: env.PYTHON_MEMORY_MB * 2 ** 20,
		queueMax: env.PYTHON_QUEUE_MAX,
		perUser: env.PYTHON_QUEUE_PER_USER
	};
}
