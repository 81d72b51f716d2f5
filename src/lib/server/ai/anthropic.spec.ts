import {
	collect,
	request,
	retrying,
	FIRST_TOKEN_TIMEOUT_MS
} from '../../../../tests/helpers/provider.ts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	apiKeyOf,
	startFakeAnthropic,
	type FakeAnthropic
} from '../../../../tests/fakes/anthropic.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { withRetries } from './resilient.ts';
import type { Provider } from './types.ts';

const KEY = 'sk-ant-test-key';
let fake: FakeAnthropic;

beforeEach(async () => {
	fake = await startFakeAnthropic({ apiKey: KEY });
});
afterEach(() => fake.close());

/** The first-token limit `retrying` sets. */

/**
 * Runs `body` with the clock (timers and Date) faked, so a timeout fires when the test moves the
 * clock past it, after the request it is about has reached the fake, not whenever a busy machine
 * lets a real one fire. The network and the fake's own pauses keep real time.
 */
async function onFakeClock<T>(body: () => Promise<T>): Promise<T> {
	vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
	try {
		return await body();
	} finally {
		vi.useRealTimers();
	}
}

function claude(apiKey: string | undefined = KEY): Provider {
	return createAnthropicProvider({ model: 'claude-test', apiKey, baseUrl: fake.url });
}

describe('Anthropic provider against the fake Messages API', () => {
	it('streams the answer token by token and reports usage', async () => {
		fake.scenarios.push({
			kind: 'stream',
			chunks: ['for ', 'i in ', 'range(3):'],
			usage: { input: 20, cacheRead: 900, cacheWrite: 0, output: 9 }
		});
		const result = await collect(claude().stream(request()));
		expect(result.error).toBeUndefined();
		expect(result.texts).toEqual(['for ', 'i in ', 'range(3):']);
		expect(result.done).toEqual({
			type: 'done',
			usage: { inputTokens: 920, outputTokens: 9, cachedInputTokens: 900 },
			stopReason: 'end_turn'
		});
	});

	it('sends the system prompt as a cached block, the history with a breakpoint on the last answer, and no SDK retries', async () => {
		await collect(claude().stream(request({ maxTokens: 77 })));
		const [sent] = fake.requests;
		expect(sent && apiKeyOf(sent.headers)).toBe(KEY);
		expect(sent?.headers['anthropic-version']).toBeTruthy();
		expect(sent?.body).toMatchObject({
			model: 'claude-test',
			max_tokens: 77,
			stream: true,
			system: [
				{
					type: 'text',
					text: 'You are a patient programming tutor.',
					cache_control: { type: 'ephemeral' }
				}
			],
			messages: [
				{ role: 'user', content: 'What is a loop?' },
				{
					role: 'assistant',
					content: [
						{ type: 'text', text: 'A way to repeat code.', cache_control: { type: 'ephemeral' } }
					]
				},
				{ role: 'user', content: 'Show me one.' }
			]
		});
	});

	it('puts a breakpoint after each system block, asks for the routed model, and counts cache writes', async () => {
		fake.scenarios.push({
			kind: 'stream',
			chunks: ['ok'],
			usage: { input: 20, output: 1, cacheRead: 0, cacheWrite: 700 }
		});
		const result = await collect(
			claude().stream(
				request({
					model: 'claude-cheap',
					systemBlocks: ['Instructions.', '# Context\nLesson: loops'],
					messages: [{ role: 'user', content: 'Hi' }]
				})
			)
		);
		expect(fake.requests[0]?.body).toMatchObject({
			model: 'claude-cheap',
			system: [
				{ type: 'text', text: 'Instructions.', cache_control: { type: 'ephemeral' } },
				{ type: 'text', text: '# Context\nLesson: loops', cache_control: { type: 'ephemeral' } }
			],
			messages: [{ role: 'user', content: 'Hi' }]
		});
		expect(result.done?.usage).toEqual({
			inputTokens: 720,
			outputTokens: 1,
			cachedInputTokens: 0,
			cacheWriteTokens: 700
		});
	});

	it('sends no breakpoints when prompt caching is off', async () => {
		await collect(claude().stream(request({ promptCache: false })));
		expect(JSON.stringify(fake.requests[0]?.body)).not.toContain('cache_control');
	});

	it.each([
		[429, 'rate_limited'],
		[500, 'server_error'],
		[529, 'overloaded'],
		[400, 'bad_request'],
		[404, 'auth']
	] as const)('HTTP %i becomes %s, with a single request', async (status, kind) => {
		fake.scenarios.push({ kind: 'status', status });
		const { error, texts } = await collect(claude().stream(request()));
		expect(error?.kind).toBe(kind);
		expect(error?.status).toBe(status);
		expect(texts).toEqual([]);
		expect(fake.requests).toHaveLength(1);
	});

	it('reads retry-after on 429', async () => {
		fake.scenarios.push({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
		const { error } = await collect(claude().stream(request()));
		expect(error?.retryAfterMs).toBe(3000);
		expect(error?.retryable).toBe(true);
	});

	it('withRetries recovers from 429, 500 and 529 before the first token', async () => {
		fake.scenarios.push(
			{ kind: 'status', status: 429, headers: { 'retry-after-ms': '40' } },
			{ kind: 'status', status: 500 },
			{ kind: 'status', status: 529 }
		);
		const delays: number[] = [];
		const result = await collect(retrying(claude(), delays, 3).stream(request()));
		expect(result.error).toBeUndefined();
		expect(result.texts.join('')).toBe('Hello from fake Claude.');
		expect(fake.requests).toHaveLength(4);
		expect(delays).toHaveLength(3);
		expect(delays[0]).toBeGreaterThanOrEqual(400);
	});

	it('an overloaded_error event mid-stream keeps the partial text and is not retried', async () => {
		fake.scenarios.push({ kind: 'error-event', afterChunks: 2 });
		const { texts, error } = await collect(retrying(claude()).stream(request()));
		expect(texts).toEqual(['Hello', ' from']);
		expect(error?.kind).toBe('overloaded');
		expect(fake.requests).toHaveLength(1);
	});

	it('an overloaded_error event before any text is retried', async () => {
		fake.scenarios.push({ kind: 'error-event', afterChunks: 0 });
		const { texts, error } = await collect(retrying(claude()).stream(request()));
		expect(error).toBeUndefined();
		expect(texts.join('')).toBe('Hello from fake Claude.');
		expect(fake.requests).toHaveLength(2);
	});

	it('a connection cut mid-answer is interrupted, after the partial text, and not retried', async () => {
		fake.scenarios.push({ kind: 'cut', afterChunks: 2 });
		const { texts, error, done } = await collect(retrying(claude()).stream(request()));
		expect(texts).toEqual(['Hello', ' from']);
		expect(error?.kind).toBe('interrupted');
		expect(done).toBeUndefined();
		expect(fake.requests).toHaveLength(1);
	});

	it('a connection cut before any text is a retryable network error', async () => {
		fake.scenarios.push({ kind: 'cut', afterChunks: 0 });
		const { error } = await collect(claude().stream(request()));
		expect(error?.kind).toBe('network');
		fake.scenarios.push({ kind: 'cut', afterChunks: 0 });
		const retried = await collect(retrying(claude()).stream(request()));
		expect(retried.texts.join('')).toBe('Hello from fake Claude.');
	});

	it('a server that never answers hits the first-token timeout and the call is cancelled', async () => {
		fake.scenarios.push({ kind: 'hang' });
		const { error } = await onFakeClock(async () => {
			const result = collect(retrying(claude(), [], 0).stream(request()));
			await fake.received();
			await vi.advanceTimersByTimeAsync(FIRST_TOKEN_TIMEOUT_MS);
			return result;
		});
		expect(error?.kind).toBe('timeout');
		const [seen] = fake.requests;
		await seen?.closed;
		expect(seen?.completed).toBe(false);
	});

	it('a hang is retried when retries are left', async () => {
		fake.scenarios.push({ kind: 'hang' });
		const { texts } = await onFakeClock(async () => {
			const result = collect(retrying(claude(), [], 1).stream(request()));
			await fake.received();
			await vi.advanceTimersByTimeAsync(FIRST_TOKEN_TIMEOUT_MS);
			return result;
		});
		expect(texts.join('')).toBe('Hello from fake Claude.');
		expect(fake.requests).toHaveLength(2);
	});

	it('a wrong key is an auth error and is never retried', async () => {
		const { error } = await collect(retrying(claude('sk-ant-wrong')).stream(request()));
		expect(error?.kind).toBe('auth');
		expect(error?.status).toBe(401);
		expect(fake.requests).toHaveLength(1);
	});

	it('a missing key fails with auth without calling the API', async () => {
		const { error } = await collect(claude('').stream(request()));
		expect(error?.kind).toBe('auth');
		expect(fake.requests).toHaveLength(0);
	});

	it('aborting stops the stream and closes the request', async () => {
		const controller = new AbortController();
		fake.scenarios.push({ kind: 'stream', chunks: Array(50).fill('word '), delayMs: 10 });
		const texts: string[] = [];
		const run = async () => {
			for await (const event of claude().stream(request({ signal: controller.signal }))) {
				if (event.type !== 'text') continue;
				texts.push(event.text);
				if (texts.length === 2) controller.abort();
			}
		};
		await expect(run()).rejects.toMatchObject({ kind: 'aborted' });
		expect(texts).toHaveLength(2);
		await fake.requests[0]?.closed;
		expect(fake.requests[0]?.completed).toBe(false);
	});

	it('aborting while waiting for the first token ends at once through withRetries', async () => {
		const controller = new AbortController();
		fake.scenarios.push({ kind: 'hang' });
		// Limits far past the test's own timeout: only the abort can end this wait.
		const provider = withRetries(claude(), {
			maxRetries: 2,
			firstTokenTimeoutMs: 120_000,
			idleTimeoutMs: 120_000
		});
		const result = collect(provider.stream(request({ signal: controller.signal })));
		// The request has reached the fake, which will never answer it: abort in that wait.
		const seen = await fake.received();
		controller.abort();
		const { error, texts } = await result;
		expect(error?.kind).toBe('aborted');
		expect(texts).toEqual([]);
		await seen.closed;
		expect(seen.completed).toBe(false);
		expect(fake.requests).toEqual([seen]);
	});
});
