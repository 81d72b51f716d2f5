/**
 * When running answers are saved: periodically (start to start), at once on request, and never two
 * saves at a time; a request made during a save runs one more right after it.
 *
 * @example
 * const flusher = new Flusher({ every: () => 150, save: () => saveRunningAnswers() });
 * flusher.start();
 * await flusher.next(); // the end of a save that starts after this call
 * await flusher.stop();
 */
export class Flusher {
	#timer: ReturnType<typeof setTimeout> | undefined;
	#running: Promise<void> | null = null;
	#again = false;
	/** Waiting for the end of a save that starts after they asked. */
	readonly #waiters: (() => void)[] = [];

	constructor(
		private readonly options: {
			/** Milliseconds from the start of one periodic save to the next. */
			every: () => number;
			/** Saves what there is; errors are its own to handle. */
			save: () => Promise<void>;
		}
	) {}

	start(delay = this.options.every()) {
		const timer: ReturnType<typeof setTimeout> = setTimeout(() => {
			const startedAt = performance.now();
			void this.flush().finally(() => {
				if (this.#timer !== timer) return; // stopped
				this.start(Math.max(0, this.options.every() - (performance.now() - startedAt)));
			});
		}, delay);
		timer.unref();
		this.#timer = timer;
	}

	/** Stops the timer and saves what is left. */
	async stop() {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		await this.flush();
	}

	/** Saves now, or right after the save under way; resolves when that save has ended. */
	flush(): Promise<void> {
		if (this.#running) {
			this.#again = true;
			return this.#running;
		}
		this.#running = (async () => {
			try {
				do {
					this.#again = false;
					const waiters = this.#waiters.splice(0);
					try {
						await this.options.save();
					} finally {
						for (const resolve of waiters) resolve();
					}
				} while (this.#again);
			} finally {
				this.#running = null;
			}
		})();
		return this.#running;
	}

	/** Resolves when a save that starts after this call has ended (the next periodic one). */
	next(): Promise<void> {
		if (!this.#timer) return this.flush();
		return new Promise((resolve) => this.#waiters.push(resolve));
	}
}
