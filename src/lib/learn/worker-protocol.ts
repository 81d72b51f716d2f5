/** Messages between the lesson page and its Python worker. */
import type { CheckResult, RunResult } from './harness.ts';

export type ToWorker =
	| { type: 'init'; indexURL: string }
	| { type: 'run'; id: number; code: string; stdin: string }
	| { type: 'check'; id: number; code: string; checks: string };

export type ToPage =
	| { type: 'progress'; stage: 'download' | 'start' }
	| { type: 'ready'; ms: number }
	| { type: 'failed'; message: string }
	| { type: 'result'; id: number; result: RunResult | CheckResult }
	| { type: 'crashed'; id: number; message: string };
