/**
 * Waits that end early when something interrupts them (the caller's abort signal, a timeout).
 *
 * `Promise.race([next, interrupted])` against one promise that lives as long as the answer leaves
 * a reaction on that promise at every call, so an answer kept one race (promise, reaction,
 * resolving functions) per token alive until its end. At hundreds of answers that is tens of
 * thousands of objects, and every young-generation collection copied them all (10-20 ms pauses
 * at 500 streams). A wait here holds nothing once it has settled.
 *
 * @example
 * const interrupt = new Interrupt();
 * signal.addEventListener('abort', () => interrupt.fire(new Error('aborted')), { once: true });
 * for (;;) await interrupt.wait(nextEvent()); // rejects as soon as the signal fires
 */
export class Interrupt {
	#reject: ((reason: unknown) => void) | null = null;
	#reason: unknown;
	#fired = false;

	get fired(): boolean {
		return this.#fired;
	}

	/** Ends the wait under way, and every later one, with `reason`. Only the first call counts. */
	fire(reason: unknown): void {
		if (this.#fired) return;
		this.#fired = true;
		this.#reason = reason;
		const reject = this.#reject;
		this.#reject = null;
		reject?.(reason);
	}

	/**
	 * Settles as `promise` does, or rejects with the interrupt's reason if that comes first. One
	 * wait at a time: a second wait started before the first settled takes the interrupt over.
	 */
	wait<T>(promise: Promise<T>): Promise<T> {
		if (this.#fired) {
			// `promise` still settles later: its failure must not surface as an unhandled rejection
			// (which would stop the process).
			promise.catch(ignore);
			return Promise.reject(this.#reason);
		}
		const { promise: waited, resolve, reject } = Promise.withResolvers<T>();
		// Holds the latest wait's `reject` until the next wait replaces it: once that wait has
		// settled, firing into it does nothing, and nothing older is kept.
		this.#reject = reject;
		promise.then(resolve, reject);
		return waited;
	}
}

function ignore() {}
