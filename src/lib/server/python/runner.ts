/**
 * The server's Python check runner: a fair queue (queue.ts) in front of a pool of Pyodide worker
 * threads (pool.ts). It turns what happened into a verdict a student can read: checked (passed or
 * not), stopped (time, memory, recursion, a broken interpreter) or busy (the queue is full; retry).
 *
 * @example
 * const runner = new PythonRunner(config.python);
 * const verdict = await runner.check(user.id, code, exercise.checks);
 * if (verdict.status === 'busy') return new Response(..., { status: 503, headers: { 'retry-after': ... } });
 */
import type { CheckResult } from '#lib/learn/harness.ts';
import { FairQueue } from './queue.ts';
import { WorkerPool, type Outcome, type PoolOptions } from './pool.ts';

export interface RunnerOptions extends PoolOptions {
	/** Checks waiting (not running) at most, over all users. */
	queueMax: number;
	/** Checks one user may have waiting or running at once. */
	perUser: number;
}

export type Verdict =
	| { status: 'checked'; result: CheckResult }
	| {
			status: 'stopped';
			reason: 'timeout' | 'recursion' | 'memory' | 'tampered' | 'fatal';
			message: string;
	  }
	| { status: 'busy'; scope: 'user' | 'server'; retryAfterSeconds: number; message: string };

interface Job {
	code: string;
	checks: string;
	resolve(verdict: Verdict): void;
}

const MB = 2 ** 20;

export class PythonRunner {
	readonly #pool: WorkerPool;
	readonly #queue: FairQueue<Job>;
	readonly #options: RunnerOptions;
	readonly #running = new Map<string, number>();
	#averageMs = 200;
	#closed = false;
	#checked = 0;

	constructor(options: RunnerOptions) {
		this.#options = options;
		this.#pool = new WorkerPool(options);
		this.#queue = new FairQueue({ max: options.queueMax, perUser: options.perUser });
	}

	/** Starts every worker thread now (otherwise the first checks start them). */
	warm() {
		return this.#pool.warm();
	}

	get stats() {
		return {
			workers: this.#pool.size,
			workersStarted: this.#pool.workersStarted,
			running: this.#pool.running,
			queued: this.#queue.size,
			checked: this.#checked
		};
	}

	/** Runs `checks` against `code` for `user`, after that user's turn in the queue. */
	check(user: string, code: string, checks: string): Promise<Verdict> {
		if (this.#closed)
			return Promise.resolve(this.#busy('server', 'The server is restarting. Try again shortly.'));
		return new Promise<Verdict>((resolve) => {
			const admitted = this.#queue.push(
				user,
				{ code, checks, resolve },
				this.#running.get(user) ?? 0
			);
			if (admitted === 'user-full')
				return resolve(
					this.#busy(
						'user',
						'Your earlier checks are still running. Wait for them, then try again.'
					)
				);
			if (admitted === 'full')
				return resolve(
					this.#busy('server', 'The server is busy checking code. Try again in a moment.')
				);
			this.#dispatch();
		});
	}

	#busy(scope: 'user' | 'server', message: string): Verdict {
		const waves = this.#queue.size / this.#pool.size + 1;
		const retryAfterSeconds = Math.max(1, Math.ceil((waves * this.#averageMs) / 1000));
		return { status: 'busy', scope, retryAfterSeconds, message };
	}

	/** A user runs on at most all threads but one, so one student never holds every worker. */
	#mayRun = (user: string) => (this.#running.get(user) ?? 0) < Math.max(1, this.#pool.size - 1);

	#dispatch() {
		for (let slot = this.#pool.idleSlot(); slot; slot = this.#pool.idleSlot()) {
			const next = this.#queue.shift(this.#mayRun);
			if (!next) return;
			const { user, job } = next;
			slot.busy = true;
			this.#running.set(user, (this.#running.get(user) ?? 0) + 1);
			const started = performance.now();
			void slot.run(job.code, job.checks).then((outcome) => {
				slot.busy = false;
				this.#averageMs = this.#averageMs * 0.9 + (performance.now() - started) * 0.1;
				const left = this.#running.get(user)! - 1;
				if (left) this.#running.set(user, left);
				else {
					this.#running.delete(user);
					this.#queue.forget(user);
				}
				this.#checked++;
				// A check cut short by shutdown is not the student's failure: nothing is recorded.
				job.resolve(
					this.#closed
						? this.#busy('server', 'The server is restarting. Try again shortly.')
						: this.#verdict(outcome)
				);
				if (!this.#closed) this.#dispatch();
			});
		}
	}

	#verdict(outcome: Outcome): Verdict {
		const seconds = this.#options.timeoutMs / 1000;
		const mb = Math.round(this.#options.memoryBytes / MB);
		switch (outcome.kind) {
			case 'checked':
				if (outcome.result.error?.type === 'MemoryError')
					outcome.result.error.message = `your code needed more than the ${mb} MB of memory a check may use`;
				return { status: 'checked', result: outcome.result };
			case 'timeout':
				return {
					status: 'stopped',
					reason: 'timeout',
					message: `Stopped after ${seconds} s: is there a loop that never ends?`
				};
			case 'unavailable':
				return this.#busy(
					'server',
					'The server could not start Python to check your code. Try again later.'
				);
			case 'crashed':
				return { status: 'stopped', reason: outcome.reason, message: CRASHES[outcome.reason](mb) };
		}
	}

	/** Refuses new checks, answers the waiting ones as busy, and ends every worker thread. */
	async close() {
		this.#closed = true;
		for (const job of this.#queue.drain())
			job.resolve(this.#busy('server', 'The server is restarting. Try again shortly.'));
		await this.#pool.close();
	}
}

const CRASHES: Record<'recursion' | 'memory' | 'tampered' | 'fatal', (mb: number) => string> = {
	recursion: () =>
		'Stopped: your code called functions too deeply (a function that keeps calling itself?).',
	memory: (mb) => `Stopped: your code needed more than the ${mb} MB of memory a check may use.`,
	tampered: () =>
		"Stopped: your code changed Python's own modules or the checker, so its result could not be trusted.",
	fatal: () => 'Stopped: Python ended while running your code (did it call os._exit?).'
};
