import { collect } from '../../../../tests/helpers/provider.ts';
import { describe, expect, it } from 'vitest';
import { createMockProvider, parseMockScript } from './mock.ts';
import { withRetries } from './resilient.ts';
import { PROVIDER_ERROR_KINDS, type GenerateRequest } from './types.ts';

function ask(content: string, overrides: Partial<GenerateRequest> = {}): GenerateRequest {
	return {
		system: 'You are a tutor.',
		messages: [{ role: 'user', content }],
		maxTokens: 1000,
		signal: new AbortController().signal,
		...overrides
	};
}

const fast = () => createMockProvider({ tokenDelayMs: 0, tokenCount: 4 });

describe('mock provider', () => {
	it('streams tokenCount deterministic tokens quoting the last user message', async () => {
		const { texts, done } = await collect(fast().stream(ask('what is recursion?')));
		expect(texts).toEqual([
			'Mock answer to "what is recursion?": Token 1 ',
			'Token 2 ',
			'Token 3 ',
			'Token 4 '
		]);
		expect(done?.stopReason).toBe('end_turn');
		expect(done?.usage).toEqual({ inputTokens: 9, outputTokens: 4, cachedInputTokens: 0 });
	});

	it('stops at maxTokens like a real model', async () => {
		const { texts, done } = await collect(fast().stream(ask('hi', { maxTokens: 2 })));
		expect(texts).toHaveLength(2);
		expect(done?.stopReason).toBe('max_tokens');
	});

	it('waits tokenDelayMs before each token', async () => {
		const provider = createMockProvider({ tokenDelayMs: 15, tokenCount: 4 });
		const started = performance.now();
		const { texts } = await collect(provider.stream(ask('hi')));
		expect(texts).toHaveLength(4);
		expect(performance.now() - started).toBeGreaterThanOrEqual(55);
	});

	it('stops within one delay when the signal is aborted', async () => {
		// A pause far past the test's own timeout: only the abort can end it.
		const provider = createMockProvider({ tokenDelayMs: 120_000, tokenCount: 10 });
		const controller = new AbortController();
		const stream = provider.stream(ask('hi', { signal: controller.signal }));
		const events = stream[Symbol.asyncIterator]();
		// Asking for the first token starts the pause before it; abort in the middle of that pause.
		const first = events.next();
		controller.abort();
		await expect(first).rejects.toMatchObject({ kind: 'aborted' });
		// No token follows: the next call fails the same way.
		await expect(events.next()).rejects.toMatchObject({ kind: 'aborted' });
	});

	it.each(PROVIDER_ERROR_KINDS)('[mock:error:%s] fails before the first token', async (kind) => {
		const { error, texts } = await collect(fast().stream(ask(`please [mock:error:${kind}]`)));
		expect(error?.kind).toBe(kind);
		expect(texts).toEqual([]);
	});

	it('[mock:error:KIND:N] fails N times, so withRetries recovers', async () => {
		const provider = fast();
		const message = 'flaky [mock:error:overloaded:2]';
		expect((await collect(provider.stream(ask(message)))).error?.kind).toBe('overloaded');
		expect((await collect(provider.stream(ask(message)))).error?.kind).toBe('overloaded');
		expect((await collect(provider.stream(ask(message)))).texts).toHaveLength(4);

		const retried = withRetries(fast(), {
			maxRetries: 2,
			firstTokenTimeoutMs: 1000,
			idleTimeoutMs: 1000,
			sleep: async () => {}
		});
		const result = await collect(retried.stream(ask(message)));
		expect(result.error).toBeUndefined();
		expect(result.texts).toHaveLength(4);
	});

	it('[mock:cut:N] streams N tokens then fails with interrupted', async () => {
		const { texts, error, done } = await collect(fast().stream(ask('[mock:cut:2] hi')));
		expect(texts).toHaveLength(2);
		expect(error?.kind).toBe('interrupted');
		expect(done).toBeUndefined();
	});

	it('[mock:tokens:N] and [mock:delay:MS] override the settings', async () => {
		const provider = createMockProvider({ tokenDelayMs: 5000, tokenCount: 1 });
		const { texts } = await collect(provider.stream(ask('[mock:tokens:6] [mock:delay:0]')));
		expect(texts).toHaveLength(6);
		expect(texts[5]).toBe('Token 6 ');
	});

	it('reads only well-formed markers', () => {
		expect(parseMockScript('[mock:error:rate_limited:3] [mock:cut:2] [mock:delay:7]')).toEqual({
			error: { kind: 'rate_limited', times: 3 },
			cutAfter: 2,
			delayMs: 7
		});
		expect(parseMockScript('[mock:error:nonsense] [mock:tokens:x] plain')).toEqual({});
	});
});
