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
		stream: (request) => new RetryingStream(provider, options, request)
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

/**
 * The events of one answer across its attempts. An iterator object rather than an async generator:
 * an event costs the call's promise and one reaction here (a generator step costs several), and at
 * hundreds of answers streaming at once, every microtask per token shows.
 */
class RetryingStream implements AsyncIterableIterator<StreamEvent> {
	readonly #provider: Provider;
	readonly #options: RetryOptions;
	readonly #request: GenerateRequest;
	#attempt = 0;
	#sawText = false;
	#call: GuardedCall | undefined;
	#ended = false;

	constructor(provider: Provider, options: RetryOptions, request: GenerateRequest) {
		this.#provider = provider;
		this.#options = options;
		this.#request = request;
	}

	[Symbol.asyncIterator]() {
		return this;
	}

	next(): Promise<IteratorResult<StreamEvent>> {
		if (this.#ended) return Promise.resolve({ done: true, value: undefined });
		try {
			this.#call ??= new GuardedCall(this.#provider, this.#options, this.#request);
		} catch (error) {
			return this.#failed(error);
		}
		return this.#call.next().then(this.#arrived, this.#failed);
	}

	/** The caller stopped reading (or broke out of its loop): the call ends now. */
	return(): Promise<IteratorResult<StreamEvent>> {
		this.#end();
		return Promise.resolve({ done: true, value: undefined });
	}

	readonly #arrived = (result: IteratorResult<StreamEvent>) => {
		if (result.done) this.#end();
		else if (result.value.type === 'text') this.#sawText = true;
		return result;
	};

	/** A failed attempt: retried after a pause while nothing has streamed, else the caller's. */
	readonly #failed = async (error: unknown): Promise<IteratorResult<StreamEvent>> => {
		this.#call?.close();
		this.#call = undefined;
		const { signal } = this.#request;
		const options = this.#options;
		const failure = toProviderError(error, { signal });
		const delay =
			this.#sawText || !failure.retryable || this.#attempt >= options.maxRetries
				? undefined
				: backoffDelay(
						this.#attempt,
						failure.retryAfterMs,
						options.random,
						options.baseDelayMs,
						options.maxDelayMs
					);
		if (delay === undefined) {
			this.#end();
			throw failure;
		}
		this.#attempt++;
		try {
			await (options.sleep ?? defaultSleep)(delay, signal);
		} catch (sleepError) {
			this.#end();
			throw toProviderError(sleepError, { signal });
		}
		return this.next();
	};

	#end() {
		this.#ended = true;
		this.#call?.close();
		this.#call = undefined;
	}
}

/**
 * One call of the provider on its own signal, so a timeout can cancel it without the caller's.
 * Each wait for the provider's next event (`next`) ends with that event, or with 'timeout' when
 * none came within the limit (cancelling the call), or with 'aborted' as soon as the caller's
 * signal fires. One abort listener and one watchdog timer serve the whole call, and the timer is
 * not touched per event: a wait notes when it began, and the timer, when it fires, either times
 * the wait out or sleeps until the wait under way would reach the limit.
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
	/** When the wait under way began (Date.now()). */
	#since = 0;
	/** The provider's stream has ended: there is no request left to cancel. */
	#finished = false;

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

	/** The provider's next event; the limit counts from now. */
	next(): Promise<IteratorResult<StreamEvent>> {
		this.#waiting = true;
		this.#since = Date.now();
		return this.#interrupt.wait(this.#events.next()).then(this.#arrived, this.#failed);
	}

	readonly #arrived = (result: IteratorResult<StreamEvent>) => {
		this.#waiting = false;
		if (result.done) this.#finished = true;
		else if (result.value.type === 'text' && this.#limitMs !== this.#idleTimeoutMs) {
			// After the first text, the limit between events applies.
			this.#limitMs = this.#idleTimeoutMs;
			this.#arm(this.#limitMs);
		}
		return result;
	};

	readonly #failed = (error: unknown): never => {
		this.#waiting = false;
		throw error;
	};

	/**
	 * Whatever ended the call (done, timeout, error, the caller breaking out), the HTTP request
	 * must not outlive it.
	 */
	close() {
		clearTimeout(this.#timer);
		this.#request.signal.removeEventListener('abort', this.#onAbort);
		if (!this.#finished) this.#controller.abort(aborted());
		this.#events.return?.().catch(() => {});
	}

	#arm(ms: number) {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(this.#onTimeout, ms);
	}

	readonly #onAbort = () => {
		this.#controller.abort(this.#request.signal.reason);
		this.#interrupt.fire(aborted());
	};

	readonly #onTimeout = () => {
		// While the caller holds an event the limit does not run: it applies to the provider only.
		const waited = this.#waiting ? Date.now() - this.#since : 0;
		if (waited < this.#limitMs) return this.#arm(this.#limitMs - waited);
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
