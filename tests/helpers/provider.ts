/** Shared pieces of the provider tests: a request, a stream drained to its outcome, fast retries. */
import { withRetries } from '../../src/lib/server/ai/resilient.ts';
import {
	ProviderError,
	type GenerateRequest,
	type Provider,
	type StreamEvent
} from '../../src/lib/server/ai/types.ts';

/** A short tutoring exchange ending with the student's question. */
export function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
	return {
		system: 'You are a patient programming tutor.',
		messages: [
			{ role: 'user', content: 'What is a loop?' },
			{ role: 'assistant', content: 'A way to repeat code.' },
			{ role: 'user', content: 'Show me one.' }
		],
		maxTokens: 256,
		signal: new AbortController().signal,
		...overrides
	};
}

/** Every event until the end, and the ProviderError that ended it if any. */
export async function collect(stream: AsyncIterable<StreamEvent>) {
	const texts: string[] = [];
	let done: Extract<StreamEvent, { type: 'done' }> | undefined;
	try {
		for await (const event of stream) {
			if (event.type === 'text') texts.push(event.text);
			else done = event;
		}
	} catch (error) {
		if (!(error instanceof ProviderError)) throw error;
		return { texts, done, error };
	}
	return { texts, done, error: undefined };
}

/**
 * The timeouts of `retrying`: far beyond any test's run, so only a test that moves a fake clock
 * past them (vi.advanceTimersByTimeAsync) ever sees one, however busy the machine is.
 */
export const FIRST_TOKEN_TIMEOUT_MS = 60_000;
export const IDLE_TIMEOUT_MS = 90_000;

/** withRetries with a sleep that only records the backoff delays. */
export const retrying = (provider: Provider, delays: number[] = [], maxRetries = 2) =>
	withRetries(provider, {
		maxRetries,
		firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS,
		idleTimeoutMs: IDLE_TIMEOUT_MS,
		sleep: async (ms) => void delays.push(ms)
	});
