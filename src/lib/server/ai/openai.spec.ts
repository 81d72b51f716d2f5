import {
	collect,
	request,
	retrying,
	FIRST_TOKEN_TIMEOUT_MS
} from '../../../../tests/helpers/provider.ts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../../../tests/fakes/openai.ts';
import { createOpenAIProvider, type OpenAIFlavour } from './openai.ts';

interface Flavour {
	name: OpenAIFlavour;
	/** The key the fake expects and what the provider is given. */
	serverKey: string;
	clientKey: string | undefined;
	prefix: string;
	maxTokensField: 'max_completion_tokens' | 'max_tokens';
}

const FLAVOURS: Flavour[] = [
	{
		name: 'openai',
		serverKey: 'sk-test',
		clientKey: 'sk-test',
		prefix: '/v1',
		maxTokensField: 'max_completion_tokens'
	},
	{
		name: 'google',
		serverKey: 'AIza-test',
		clientKey: 'AIza-test',
		prefix: '/v1beta/openai/',
		maxTokensField: 'max_tokens'
	},
	{
		name: 'openai-compatible',
		serverKey: 'not-needed',
		clientKey: undefined,
		prefix: '/v1',
		maxTokensField: 'max_tokens'
	}
];

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

describe.each(FLAVOURS)('$name provider against the fake chat completions API', (flavour) => {
	let fake: FakeOpenAI;
	beforeEach(async () => {
		fake = await startFakeOpenAI({ apiKey: flavour.serverKey });
	});
	afterEach(() => fake.close());

	const provider = (apiKey = flavour.clientKey) =>
		createOpenAIProvider({
			name: flavour.name,
			model: 'model-test',
			apiKey,
			baseUrl: fake.url + flavour.prefix
		});

	it('streams the answer token by token and reports usage with cached tokens', async () => {
		fake.scenarios.push({
			kind: 'stream',
			chunks: ['for ', 'i in ', 'range(3):'],
			usage: { prompt: 1500, completion: 9, cached: 1280 }
		});
		const result = await collect(provider().stream(request()));
		expect(result.error).toBeUndefined();
		expect(result.texts).toEqual(['for ', 'i in ', 'range(3):']);
		expect(result.done).toEqual({
			type: 'done',
			usage: { inputTokens: 1500, outputTokens: 9, cachedInputTokens: 1280 },
			stopReason: 'stop'
		});
		expect(provider().name).toBe(flavour.name);
	});

	it('sends the system prompt first, the history, stream_options and the key', async () => {
		await collect(provider().stream(request({ maxTokens: 77 })));
		const [sent] = fake.requests;
		expect(sent?.path).toBe(flavour.prefix.replace(/\/$/, '') + '/chat/completions');
		expect(sent?.headers.authorization).toBe(`Bearer ${flavour.serverKey}`);
		expect(sent?.body).toMatchObject({
			model: 'model-test',
			stream: true,
			stream_options: { include_usage: true },
			[flavour.maxTokensField]: 77,
			messages: [
				{ role: 'system', content: 'You are a patient programming tutor.' },
				{ role: 'user', content: 'What is a loop?' },
				{ role: 'assistant', content: 'A way to repeat code.' },
				{ role: 'user', content: 'Show me one.' }
			]
		});
	});

	it.each([
		[429, 'rate_limited'],
		[500, 'server_error'],
		[503, 'overloaded'],
		[400, 'bad_request']
	] as const)('HTTP %i becomes %s, with a single request', async (status, kind) => {
		fake.scenarios.push({ kind: 'status', status, headers: { 'retry-after-ms': '250' } });
		const { error, texts } = await collect(provider().stream(request()));
		expect(error?.kind).toBe(kind);
		expect(error?.status).toBe(status);
		expect(error?.retryAfterMs).toBe(250);
		expect(texts).toEqual([]);
		expect(fake.requests).toHaveLength(1);
	});

	it('withRetries recovers from 429 and 500 before the first token', async () => {
		fake.scenarios.push(
			{ kind: 'status', status: 429, headers: { 'retry-after': '1' } },
			{ kind: 'status', status: 500 }
		);
		const delays: number[] = [];
		const result = await collect(retrying(provider(), delays).stream(request()));
		expect(result.error).toBeUndefined();
		expect(result.texts.join('')).toBe('Hello from fake GPT.');
		expect(fake.requests).toHaveLength(3);
		expect(delays[0]).toBeGreaterThanOrEqual(1000);
	});

	it('an error event mid-stream keeps the partial text and is not retried', async () => {
		fake.scenarios.push({ kind: 'error-event', afterChunks: 2 });
		const { texts, error } = await collect(retrying(provider()).stream(request()));
		expect(texts).toEqual(['Hello', ' from']);
		expect(error?.kind).toBe('server_error');
		expect(fake.requests).toHaveLength(1);
	});

	it('a connection cut mid-answer is interrupted, after the partial text, and not retried', async () => {
		fake.scenarios.push({ kind: 'cut', afterChunks: 3 });
		const { texts, error, done } = await collect(retrying(provider()).stream(request()));
		expect(texts).toEqual(['Hello', ' from', ' fake']);
		expect(error?.kind).toBe('interrupted');
		expect(done).toBeUndefined();
		expect(fake.requests).toHaveLength(1);
	});

	it('a server that never answers hits the first-token timeout and the call is cancelled', async () => {
		fake.scenarios.push({ kind: 'hang' });
		const { error } = await onFakeClock(async () => {
			const result = collect(retrying(provider(), [], 0).stream(request()));
			await fake.received();
			await vi.advanceTimersByTimeAsync(FIRST_TOKEN_TIMEOUT_MS);
			return result;
		});
		expect(error?.kind).toBe('timeout');
		const [seen] = fake.requests;
		await seen?.closed;
		expect(seen?.completed).toBe(false);
	});

	it('a wrong key is an auth error and is never retried', async () => {
		const { error } = await collect(retrying(provider('wrong-key')).stream(request()));
		expect(error?.kind).toBe('auth');
		expect(error?.status).toBe(401);
		expect(fake.requests).toHaveLength(1);
	});

	it('aborting stops the stream and closes the request', async () => {
		const controller = new AbortController();
		fake.scenarios.push({ kind: 'stream', chunks: Array(50).fill('word '), delayMs: 10 });
		const texts: string[] = [];
		const run = async () => {
			for await (const event of provider().stream(request({ signal: controller.signal }))) {
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
});

describe('OpenAI-style provider configuration', () => {
	it('fails with auth, without any request, when a required key or base URL is missing', async () => {
		const signal = new AbortController().signal;
		const noKey = createOpenAIProvider({ name: 'openai', model: 'm', apiKey: undefined });
		const noGoogleKey = createOpenAIProvider({ name: 'google', model: 'm', baseUrl: 'http://x' });
		const noUrl = createOpenAIProvider({ name: 'openai-compatible', model: 'm' });
		for (const provider of [noKey, noGoogleKey, noUrl]) {
			const { error } = await collect(provider.stream(request({ signal })));
			expect(error?.kind).toBe('auth');
		}
		const { error } = await collect(noUrl.stream(request({ signal })));
		expect(error?.message).toMatch(/LLM_BASE_URL/);
	});

	it('a stream without finish_reason is interrupted, never a silent success', async () => {
		const fake = await startFakeOpenAI();
		try {
			fake.scenarios.push({ kind: 'cut', afterChunks: 1 });
			const gpt = createOpenAIProvider({
				name: 'openai',
				model: 'm',
				apiKey: 'k',
				baseUrl: `${fake.url}/v1`
			});
			const { texts, error, done } = await collect(gpt.stream(request()));
			expect(texts).toEqual(['Hello']);
			expect(error?.kind).toBe('interrupted');
			expect(done).toBeUndefined();
		} finally {
			await fake.close();
		}
	});
});
