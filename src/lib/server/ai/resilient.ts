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
		try {
			for await (const event of guardedAttempt(provider, options, request)) {
				if (event.type === 'text') sawText = true;
				yield event;
			}
			return;
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
		}
	}
}

/**
 * One call of the provider on its own signal, so a timeout can cancel it without the caller's.
 * Each wait for the provider's next event ends with that event, or with 'timeout' when none came
 * within the limit (cancelling the call), or with 'aborted' as soon as the caller's signal fires.
 * One watchdog timer and one abort listener serve the whole call (not one of each per token).
 */
async function* guardedAttempt(
	provider: Provider,
	options: RetryOptions,
	request: GenerateRequest
): AsyncGenerator<StreamEvent> {
	if (request.signal.aborted) throw aborted();
	const controller = new AbortController();
	const interrupt = new Interrupt();
	const onAbort = () => {
		controller.abort(request.signal.reason);
		interrupt.fire(aborted());
	};
	request.signal.addEventListener('abort', onAbort, { once: true });
	let limitMs = options.firstTokenTimeoutMs;
	let waiting = false;
	const onTimeout = () => {
		if (!waiting) return; // the caller holds an event: the limit applies to the provider only
		const error = new ProviderError('timeout', `no event from the provider within ${limitMs} ms`);
		controller.abort(error);
		interrupt.fire(error);
	};
	let timer: ReturnType<typeof setTimeout> | undefined;
	let events: AsyncIterator<StreamEvent> | undefined;
	try {
		events = provider.stream({ ...request, signal: controller.signal })[Symbol.asyncIterator]();
		timer = setTimeout(onTimeout, limitMs);
		for (;;) {
			waiting = true;
			let result: IteratorResult<StreamEvent>;
			try {
				result = await interrupt.wait(events.next());
			} finally {
				waiting = false;
			}
			if (result.done) return;
			if (result.value.type === 'text' && limitMs !== options.idleTimeoutMs) {
				// After the first text, the limit between events applies.
				limitMs = options.idleTimeoutMs;
				clearTimeout(timer);
				timer = setTimeout(onTimeout, limitMs);
			} else timer.refresh();
			yield result.value;
			timer.refresh(); // the wait for the next event starts now
		}
	} finally {
		clearTimeout(timer);
		request.signal.removeEventListener('abort', onAbort);
		// Whatever ended this attempt (done, timeout, error, the caller breaking out), the HTTP
		// request must not outlive it.
		controller.abort(aborted());
		events?.return?.().catch(() => {});
	}
}

function aborted(): ProviderError {
	return new ProviderError('aborted', 'the request was cancelled');
}
