/**
 * Retries and timeouts around any Provider. Retrying is only safe while the student has seen
 * nothing: once text has streamed, a retry would show a different answer glued to the first, so
 * every later failure goes to the caller, which keeps the partial answer.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { toProviderError } from './errors.ts';
import { Interrupt } from './interrupt.ts';
import { ProviderError, type GenerateRequest, type Provider, type StreamEvent } from './types.ts';

export interface RetryOptions {
	/** Extra attempts after the first, before any text has streamed. */
	maxRetries: number;
	/** Longest wait for the first text event of an attempt; hitting it counts as a retryable timeout. */
	firstTokenTimeoutMs: number;
	/** Longest silence between events once text is streaming. */
	idleTimeoutMs: number;
	/** Waits between attempts; rejects when the signal fires. Tests pass a fake. */
	sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
	/** Source of jitter in [0, 1). */
	random?: () => number;
	baseDelayMs?: number;
	maxDelayMs?: number;
}

const defaultSleep = (ms: number, signal: AbortSignal) => wait(ms, undefined, { signal });

/**
 * Wraps a provider with retries (exponential backoff with jitter, honouring the provider's
 * retry-after) and first-token and idle timeouts that cancel the underlying call.
 *
 * @example
 * const tutor = withRetries(createAnthropicProvider({ model, apiKey }), {
 * 	maxRetries: 2,
 * 	firstTokenTimeoutMs: 30_000,
 * 	idleTimeoutMs: 60_000
 * });
 */
export function withRetries(provider: Provider, options: RetryOptions): Provider {
	return {
		name: provider.name,
		model: provider.model,
		stream: (request) => streamWithRetries(provider, options, request)
	};
}

/**
 * The pause before retry number `attempt + 1` (0.5 s, 1 s, 2 s, 4 s, 8 s, each ±20 %), never
 * shorter than the provider's retry-after. Undefined when the provider asks for a longer wait than
 * `maxDelayMs`: a student will not wait that long, so the error is better shown at once.
 *
 * @example
 * backoffDelay(1, undefined, () => 0.5); // 1000
 */
export function backoffDelay(
	attempt: number,
	retryAfterMs: number | undefined,
	random: () => number = Math.random,
	baseDelayMs = 500,
	maxDelayMs = 8000
): number | undefined {
	if (retryAfterMs !== undefined && retryAfterMs > maxDelayMs) return undefined;
	const exponential = baseDelayMs * 2 ** attempt * (0.8 + 0.4 * random());
	return Math.round(Math.min(maxDelayMs, Math.max(retryAfterMs ?? 0, exponential)));
}

async function* streamWithRetries(
	provider: Provider,
	options: RetryOptions,
	request: GenerateRequest
): AsyncGenerator<StreamEvent> {
	const { signal } = request;
	const sleep = options.sleep ?? defaultSleep;
	for (let attempt = 0; ; attempt++) {
		let sawText = false;
		let call: GuardedCall | undefined;
		try {
			call = new GuardedCall(provider, options, request);
			for (;;) {
				const result = await call.next();
				if (result.done) return;
				if (result.value.type === 'text') sawText = true;
				yield result.value;
				call.resume(); // the wait for the next event starts now
			}
		} catch (error) {
			const failure = toProviderError(error, { signal });
			if (sawText || !failure.retryable || attempt >= options.maxRetries) throw failure;
			const delay = backoffDelay(
				attempt,
				failure.retryAfterMs,
				options.random,
				options.baseDelayMs,
				options.maxDelayMs
			);
			if (delay === undefined) throw failure;
			try {
				await sleep(delay, signal);
			} catch (sleepError) {
				throw toProviderError(sleepError, { signal });
			}
		} finally {
			call?.close();
		}
	}
}

/**
 * One call of the provider on its own signal, so a timeout can cancel it without the caller's.
 * Each wait for the provider's next event (`next`) ends with that event, or with 'timeout' when
 * none came within the limit (cancelling the call), or with 'aborted' as soon as the caller's
 * signal fires. One watchdog timer and one abort listener serve the whole call (not one of each
 * per token), and it is an object rather than a generator: the retry loop above is the only
 * generator step per event.
 */
class GuardedCall {
	readonly #controller = new AbortController();
	readonly #interrupt = new Interrupt();
	readonly #request: GenerateRequest;
	readonly #idleTimeoutMs: number;
	readonly #events: AsyncIterator<StreamEvent>;
	#timer: ReturnType<typeof setTimeout>;
	#limitMs: number;
	#waiting = false;

	constructor(provider: Provider, options: RetryOptions, request: GenerateRequest) {
		if (request.signal.aborted) throw aborted();
		this.#request = request;
		this.#idleTimeoutMs = options.idleTimeoutMs;
		this.#limitMs = options.firstTokenTimeoutMs;
		request.signal.addEventListener('abort', this.#onAbort, { once: true });
		try {
			const stream = provider.stream({ ...request, signal: this.#controller.signal });
			this.#events = stream[Symbol.asyncIterator]();
		} catch (error) {
			request.signal.removeEventListener('abort', this.#onAbort);
			throw error;
		}
		this.#timer = setTimeout(this.#onTimeout, this.#limitMs);
	}

	next(): Promise<IteratorResult<StreamEvent>> {
		this.#waiting = true;
		return this.#interrupt.wait(this.#events.next()).then(this.#arrived, this.#failed);
	}

	readonly #arrived = (result: IteratorResult<StreamEvent>) => {
		this.#waiting = false;
		if (!result.done && result.value.type === 'text' && this.#limitMs !== this.#idleTimeoutMs) {
			// After the first text, the limit between events applies.
			this.#limitMs = this.#idleTimeoutMs;
			this.#restart();
		} else this.#timer.refresh();
		return result;
	};

	readonly #failed = (error: unknown): never => {
		this.#waiting = false;
		throw error;
	};

	/** The caller is done with the last event: the limit for the next one starts now. */
	resume() {
		this.#timer.refresh();
	}

	/**
	 * Whatever ended the call (done, timeout, error, the caller breaking out), the HTTP request
	 * must not outlive it.
	 */
	close() {
		clearTimeout(this.#timer);
		this.#request.signal.removeEventListener('abort', this.#onAbort);
		this.#controller.abort(aborted());
		this.#events.return?.().catch(() => {});
	}

	#restart() {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(this.#onTimeout, this.#limitMs);
	}

	readonly #onAbort = () => {
		this.#controller.abort(this.#request.signal.reason);
		this.#interrupt.fire(aborted());
	};

	readonly #onTimeout = () => {
		if (!this.#waiting) return; // the caller holds an event: the limit applies to the provider only
		const error = new ProviderError(
			'timeout',
			`no event from the provider within ${this.#limitMs} ms`
		);
		this.#controller.abort(error);
		this.#interrupt.fire(error);
	};
}

function aborted(): ProviderError {
	return new ProviderError('aborted', 'the request was cancelled');
}
