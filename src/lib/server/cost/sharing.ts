/**
 * Answer sharing: a cacheable question asked again while its first answer is still streaming (a
 * class asking together) follows that answer instead of paying for it twice.
 *
 * @example
 * const shared = answers.lead(key);                  // the first asker
 * for await (const e of tap(stream, shared)) ...     // its stream, shared as it passes
 * const leader = answers.find(key);                  // a later asker follows leader.text
 */
import type { StreamEvent, Usage } from '#lib/server/ai/types.ts';

/**
 * How long a followed answer may stream nothing before its followers stop waiting and answer on
 * their own (a stalled stream, or a generation that ended without saying so).
 */
export const COALESCE_IDLE_MS = 30_000;

/** A cacheable answer being generated: its text as it streams and how it ended. */
export class SharedAnswer {
	readonly text: string[] = [];
	usage: Usage | null = null;
	state: 'streaming' | 'complete' | 'failed' = 'streaming';
	#waiting = Promise.withResolvers<void>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#lastPieceAt = 0;
	readonly #onRetire: () => void;

	constructor(onRetire: () => void) {
		this.#onRetire = onRetire;
		this.#arm();
	}
	push(text: string) {
		if (this.state !== 'streaming') return;
		this.text.push(text);
		this.#arm();
		this.#wake();
	}
	complete(usage: Usage | null) {
		if (this.state !== 'streaming') return;
		this.usage = usage;
		this.state = 'complete';
		// Findable until it is recorded (and so in the cache), or until the idle time passes.
		this.#arm();
		this.#wake();
	}
	fail() {
		if (this.state !== 'streaming') return;
		this.state = 'failed';
		this.retire();
		this.#wake();
	}
	/** Resolves at the next piece of text or at the end. */
	changed(): Promise<void> {
		return this.#waiting.promise;
	}
	/** Done with it: later askers no longer find it (they find the cache entry instead). */
	retire() {
		clearTimeout(this.#timer);
		if (this.state === 'streaming') this.state = 'failed';
		this.#onRetire();
		this.#wake();
	}
	/** One timer per answer, not one per piece: it sleeps on until the last piece is that old. */
	#arm() {
		this.#lastPieceAt = Date.now();
		this.#timer ??= this.#sleep(COALESCE_IDLE_MS);
	}
	#sleep(ms: number) {
		const timer = setTimeout(() => {
			const idle = Date.now() - this.#lastPieceAt;
			if (idle < COALESCE_IDLE_MS) this.#timer = this.#sleep(COALESCE_IDLE_MS - idle);
			else if (this.state === 'streaming') this.fail();
			else this.retire();
		}, ms);
		timer.unref?.();
		return timer;
	}
	#wake() {
		const waiting = this.#waiting;
		this.#waiting = Promise.withResolvers<void>();
		waiting.resolve();
	}
}

/** The answers this process is generating for cacheable questions, by cache key. */
export class SharedAnswers {
	readonly #byKey = new Map<string, SharedAnswer>();

	find(key: string): SharedAnswer | undefined {
		return this.#byKey.get(key);
	}
	/** Marks this process as answering `key`: later askers follow the returned answer. */
	lead(key: string): SharedAnswer {
		const shared: SharedAnswer = new SharedAnswer(() => {
			if (this.#byKey.get(key) === shared) this.#byKey.delete(key);
		});
		this.#byKey.set(key, shared);
		return shared;
	}
}

/** The leader's events, passed on unchanged and shared as they pass. */
export async function* tap(
	events: AsyncIterable<StreamEvent>,
	shared: SharedAnswer
): AsyncGenerator<StreamEvent> {
	try {
		for await (const event of events) {
			if (event.type === 'text') shared.push(event.text);
			else if (event.type === 'done') shared.complete(event.usage ?? null);
			yield event;
		}
	} finally {
		shared.fail(); // no-op once complete
	}
}
