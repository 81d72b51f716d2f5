/**
 * The waiting line for checks, fair between users: the next job comes from the user served longest
 * ago (a user who has not been served yet goes first), so one student's ten submissions wait behind
 * each other, not in front of everyone else. Bounded in total and per user.
 *
 * @example
 * const queue = new FairQueue<Job>({ max: 100, perUser: 3 });
 * if (queue.push('user-1', job) !== 'queued') refuse();
 * const next = queue.shift(); // the job of the least recently served user, or undefined
 */
export type Admission = 'queued' | 'user-full' | 'full';

export class FairQueue<T> {
	readonly #max: number;
	readonly #perUser: number;
	readonly #jobs = new Map<string, T[]>();
	/** When each user with jobs waiting was last served (a counter, not a clock). */
	readonly #served = new Map<string, number>();
	#tick = 0;
	#size = 0;

	constructor(options: { max: number; perUser: number }) {
		this.#max = options.max;
		this.#perUser = options.perUser;
	}

	get size() {
		return this.#size;
	}

	/** Queues a job; `held` is how many of the user's jobs are running now (they count too). */
	push(user: string, job: T, held = 0): Admission {
		const mine = this.#jobs.get(user);
		if ((mine?.length ?? 0) + held >= this.#perUser) return 'user-full';
		if (this.#size >= this.#max) return 'full';
		if (mine) mine.push(job);
		else this.#jobs.set(user, [job]);
		if (!this.#served.has(user)) this.#served.set(user, -1);
		this.#size++;
		return 'queued';
	}

	/** The next job, from the least recently served user among those `eligible` says may run now. */
	shift(eligible: (user: string) => boolean = () => true): { user: string; job: T } | undefined {
		let chosen: string | undefined;
		let oldest = Infinity;
		for (const [user, jobs] of this.#jobs) {
			const served = this.#served.get(user) ?? -1;
			if (jobs.length && served < oldest && eligible(user)) {
				chosen = user;
				oldest = served;
			}
		}
		if (chosen === undefined) return undefined;
		const jobs = this.#jobs.get(chosen)!;
		const job = jobs.shift()!;
		this.#size--;
		this.#served.set(chosen, this.#tick++);
		if (!jobs.length) this.#jobs.delete(chosen);
		return { user: chosen, job };
	}

	/** Forgets when a user with nothing queued was served, so the map holds only active users. */
	forget(user: string) {
		if (!this.#jobs.has(user)) this.#served.delete(user);
	}

	/** Empties the queue, returning every job still waiting. */
	drain(): T[] {
		const all = [...this.#jobs.values()].flat();
		this.#jobs.clear();
		this.#served.clear();
		this.#size = 0;
		return all;
	}
}
