import { describe, expect, it, vi } from 'vitest';
import { testConfig } from '../../../../tests/helpers/config.ts';
import { retryAfterMs } from './errors.ts';
import { createProvider } from './providers.ts';
import { backoffDelay, withRetries, type RetryOptions } from './resilient.ts';
import {
	ProviderError,
	type GenerateRequest,
	type Provider,
	type ProviderErrorKind,
	type StreamEvent
} from './types.ts';

type Attempt = (signal: AbortSignal) => AsyncGenerator<StreamEvent>;

/** A provider whose Nth call plays the Nth script, and which records the signals it was given. */
function scripted(...attempts: Attempt[]) {
	const signals: AbortSignal[] = [];
	const provider: Provider = {
		name: 'mock',
		model: 'scripted',
		stream(request) {
			signals.push(request.signal);
			const attempt = attempts[signals.length - 1];
			if (!attempt) throw new Error('no more scripted attempts');
			return attempt(request.signal);
		}
	};
	return { provider, signals };
}

const fail = (kind: ProviderErrorKind, retryAfterMs?: number): Attempt =>
	// eslint-disable-next-line require-yield -- fails before any event, like a refused call
	async function* () {
		throw new ProviderError(kind, `scripted ${kind}`, { retryAfterMs });
	};

const answer = (...texts: string[]): Attempt =>
	async function* () {
		for (const text of texts) yield { type: 'text', text };
		yield { type: 'done', usage: { inputTokens: 1, outputTokens: texts.length } };
	};

/** Yields `texts`, then waits until aborted (a provider gone silent). */
const stall = (...texts: string[]): Attempt =>
	async function* (signal) {
		for (const text of texts) yield { type: 'text', text };
		await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
		throw new ProviderError('aborted', 'stopped');
	};

/** Yields `texts`, then fails with `kind`. */
const breakAfter = (kind: ProviderErrorKind, ...texts: string[]): Attempt =>
	async function* () {
		for (const text of texts) yield { type: 'text', text };
		throw new ProviderError(kind, `scripted ${kind}`);
	};

function options(overrides: Partial<RetryOptions> = {}, delays: number[] = []): RetryOptions {
	return {
		maxRetries: 3,
		firstTokenTimeoutMs: 60,
		idleTimeoutMs: 60,
		sleep: async (ms) => void delays.push(ms),
		random: () => 0.5,
		...overrides
	};
}

function ask(signal = new AbortController().signal): GenerateRequest {
	return { system: 's', messages: [{ role: 'user', content: 'q' }], maxTokens: 10, signal };
}

async function collect(stream: AsyncIterable<StreamEvent>) {
	const texts: string[] = [];
	try {
		for await (const event of stream) if (event.type === 'text') texts.push(event.text);
	} catch (error) {
		if (!(error instanceof ProviderError)) throw error;
		return { texts, error };
	}
	return { texts, error: undefined };
}

describe('backoffDelay', () => {
	it('doubles from 0.5 s up to 8 s', () => {
		const delays = [0, 1, 2, 3, 4, 5, 6].map((attempt) =>
			backoffDelay(attempt, undefined, () => 0.5)
		);
		expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
	});

	it('adds ±20 % jitter', () => {
		expect(backoffDelay(1, undefined, () => 0)).toBe(800);
		expect(backoffDelay(1, undefined, () => 0.999)).toBeCloseTo(1200, -1);
	});

	it('waits at least what the provider asked, and gives up when it asks too much', () => {
		expect(backoffDelay(0, 3000, () => 0.5)).toBe(3000);
		expect(backoffDelay(3, 100, () => 0.5)).toBe(4000);
		expect(backoffDelay(0, 60_000, () => 0.5)).toBeUndefined();
	});
});

describe('retryAfterMs', () => {
	it('reads milliseconds, seconds or an HTTP date', () => {
		const now = Date.parse('2030-01-01T00:00:00Z');
		const at = (headers: Record<string, string>) => retryAfterMs(new Headers(headers), now);
		expect(at({ 'retry-after-ms': '120', 'retry-after': '9' })).toBe(120);
		expect(at({ 'retry-after': '2' })).toBe(2000);
		expect(at({ 'retry-after': 'Tue, 01 Jan 2030 00:00:05 GMT' })).toBe(5000);
		expect(at({ 'retry-after': 'soon' })).toBeUndefined();
		expect(retryAfterMs(undefined)).toBeUndefined();
	});
});

describe('withRetries', () => {
	it('retries retryable failures before the first token and then streams', async () => {
		const { provider, signals } = scripted(
			fail('rate_limited', 1500),
			fail('overloaded'),
			fail('network'),
			answer('a', 'b')
		);
		const delays: number[] = [];
		const result = await collect(withRetries(provider, options({}, delays)).stream(ask()));
		expect(result).toEqual({ texts: ['a', 'b'], error: undefined });
		expect(signals).toHaveLength(4);
		expect(delays).toEqual([1500, 1000, 2000]);
	});

	it('passes the done event through', async () => {
		const { provider } = scripted(answer('x'));
		const events: StreamEvent[] = [];
		for await (const event of withRetries(provider, options()).stream(ask())) events.push(event);
		expect(events.at(-1)).toEqual({ type: 'done', usage: { inputTokens: 1, outputTokens: 1 } });
	});

	it('gives up after maxRetries with the last error', async () => {
		const { provider, signals } = scripted(
			fail('server_error'),
			fail('server_error'),
			fail('timeout')
		);
		const { error } = await collect(
			withRetries(provider, options({ maxRetries: 2 })).stream(ask())
		);
		expect(error?.kind).toBe('timeout');
		expect(signals).toHaveLength(3);
	});

	it.each(['auth', 'bad_request', 'aborted', 'interrupted'] as const)(
		'never retries %s',
		async (kind) => {
			const { provider, signals } = scripted(fail(kind), answer('never'));
			const { error } = await collect(withRetries(provider, options()).stream(ask()));
			expect(error?.kind).toBe(kind);
			expect(signals).toHaveLength(1);
		}
	);

	it('does not retry when the provider asks to wait longer than the cap', async () => {
		const { provider, signals } = scripted(fail('rate_limited', 60_000), answer('never'));
		const { error } = await collect(withRetries(provider, options()).stream(ask()));
		expect(error?.retryAfterMs).toBe(60_000);
		expect(signals).toHaveLength(1);
	});

	it('after the first token, rethrows any failure as is, without retrying', async () => {
		const { provider, signals } = scripted(breakAfter('overloaded', 'part'), answer('never'));
		const { texts, error } = await collect(withRetries(provider, options()).stream(ask()));
		expect(texts).toEqual(['part']);
		expect(error?.kind).toBe('overloaded');
		expect(signals).toHaveLength(1);
	});

	it('times out a silent first token, cancels that call, and retries', async () => {
		const { provider, signals } = scripted(stall(), answer('late but fine'));
		const { texts } = await collect(withRetries(provider, options()).stream(ask()));
		expect(texts).toEqual(['late but fine']);
		expect(signals[0]?.aborted).toBe(true);
	});

	it('reports the first-token timeout when no retries are left', async () => {
		const { provider, signals } = scripted(stall());
		const { error } = await collect(
			withRetries(provider, options({ maxRetries: 0 })).stream(ask())
		);
		expect(error?.kind).toBe('timeout');
		expect(signals[0]?.aborted).toBe(true);
	});

	it('times out silence between tokens, keeps the partial text, and does not retry', async () => {
		const { provider, signals } = scripted(stall('one', 'two'), answer('never'));
		const { texts, error } = await collect(withRetries(provider, options()).stream(ask()));
		expect(texts).toEqual(['one', 'two']);
		expect(error?.kind).toBe('timeout');
		expect(signals).toHaveLength(1);
		expect(signals[0]?.aborted).toBe(true);
	});

	it('a steady stream longer than the idle limit runs on; silence after it still times out', async () => {
		// On a fake clock: on a busy machine a real 20 ms pause can outlast the 60 ms limit.
		vi.useFakeTimers();
		try {
			// Tokens 20 ms apart for 200 ms (the idle limit is 60 ms), then silence.
			const paced: Attempt = async function* (signal) {
				for (let i = 0; i < 10; i++) {
					await new Promise((r) => setTimeout(r, 20));
					yield { type: 'text', text: `t${i}` };
				}
				await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
				throw new ProviderError('aborted', 'stopped');
			};
			const { provider } = scripted(paced);
			const started = Date.now();
			let ended = false;
			const result = collect(withRetries(provider, options()).stream(ask())).finally(
				() => (ended = true)
			);
			// The timeout comes 60 ms after the last token, not at a fixed time after the first.
			await vi.advanceTimersByTimeAsync(200 + 59);
			expect(ended).toBe(false);
			await vi.advanceTimersByTimeAsync(1);
			const { texts, error } = await result;
			expect(texts).toHaveLength(10);
			expect(error?.kind).toBe('timeout');
			expect(Date.now() - started).toBe(200 + 60);
		} finally {
			vi.useRealTimers();
		}
	});

	it('does not count the time the caller holds an event against the provider', async () => {
		const { provider } = scripted(answer('one', 'two', 'three'));
		const texts: string[] = [];
		// Idle and first-token limits are 60 ms; the caller takes 150 ms over each event.
		for await (const event of withRetries(provider, options()).stream(ask())) {
			if (event.type === 'text') texts.push(event.text);
			await new Promise((r) => setTimeout(r, 150));
		}
		expect(texts).toEqual(['one', 'two', 'three']);
	});

	it('ends at once with aborted when the caller aborts, even if the provider ignores it', async () => {
		let asked!: () => void;
		const waiting = new Promise<void>((resolve) => (asked = resolve));
		const deaf: Attempt = async function* () {
			yield { type: 'text', text: 'first' };
			asked(); // the next event was asked for, and never comes
			await new Promise(() => {});
		};
		const { provider, signals } = scripted(deaf);
		const controller = new AbortController();
		// An idle limit far past the test's own timeout: only the abort can end the wait.
		const wrapped = withRetries(provider, options({ idleTimeoutMs: 120_000 }));
		const texts: string[] = [];
		const run = (async () => {
			for await (const event of wrapped.stream(ask(controller.signal)))
				if (event.type === 'text') texts.push(event.text);
		})();
		await waiting;
		controller.abort();
		await expect(run).rejects.toMatchObject({ kind: 'aborted' });
		expect(texts).toEqual(['first']);
		expect(signals[0]?.aborted).toBe(true);
	});

	it('an abort during the backoff pause ends with aborted', async () => {
		const { provider, signals } = scripted(fail('overloaded'), answer('never'));
		const controller = new AbortController();
		const sleep = (_ms: number, signal: AbortSignal) =>
			new Promise<void>((_, reject) => {
				signal.addEventListener('abort', () => reject(signal.reason), { once: true });
				controller.abort();
			});
		const { error } = await collect(
			withRetries(provider, options({ sleep })).stream(ask(controller.signal))
		);
		expect(error?.kind).toBe('aborted');
		expect(signals).toHaveLength(1);
	});

	it('an already aborted request never calls the provider', async () => {
		const { provider, signals } = scripted(answer('never'));
		const { error } = await collect(
			withRetries(provider, options()).stream(ask(AbortSignal.abort()))
		);
		expect(error?.kind).toBe('aborted');
		expect(signals).toHaveLength(0);
	});

	it('breaking out of the loop cancels the underlying call', async () => {
		const { provider, signals } = scripted(stall('a'));
		for await (const event of withRetries(provider, options()).stream(ask())) {
			if (event.type === 'text') break;
		}
		expect(signals[0]?.aborted).toBe(true);
	});

	it('turns a non-ProviderError from the provider into server_error and retries it', async () => {
		// eslint-disable-next-line require-yield -- fails before any event
		const broken: Attempt = async function* () {
			throw new TypeError('provider bug');
		};
		const { provider } = scripted(broken, answer('ok'));
		const { texts } = await collect(withRetries(provider, options()).stream(ask()));
		expect(texts).toEqual(['ok']);
	});

	it('keeps the provider name and model', () => {
		const { provider } = scripted();
		const wrapped = withRetries(provider, options());
		expect([wrapped.name, wrapped.model]).toEqual(['mock', 'scripted']);
	});
});

describe('createProvider', () => {
	const llm = (env: Record<string, string>) => testConfig(env).llm;

	it('builds each configured provider with its model', () => {
		const cases: Record<string, string>[] = [
			{ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'k' },
			{ LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'k' },
			{ LLM_PROVIDER: 'google', GOOGLE_API_KEY: 'k' },
			{ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: 'http://127.0.0.1:11434/v1' },
			{ LLM_PROVIDER: 'mock' }
		];
		const built = cases.map((env) => createProvider(llm({ ...env, LLM_MODEL: 'm1' })));
		expect(built.map((p) => `${p.name}:${p.model}`)).toEqual([
			'anthropic:m1',
			'openai:m1',
			'google:m1',
			'openai-compatible:m1',
			'mock:m1'
		]);
	});

	it('streams from the mock with the configured token count', async () => {
		const config = llm({ LLM_PROVIDER: 'mock', MOCK_TOKEN_DELAY_MS: '0', MOCK_TOKEN_COUNT: '3' });
		const { texts } = await collect(createProvider(config).stream(ask()));
		expect(texts).toEqual(['Mock answer to "q": Token 1 ', 'Token 2 ', 'Token 3 ']);
	});

	it('a provider without its key fails each call with auth instead of failing at start', async () => {
		const config = llm({ LLM_PROVIDER: 'anthropic' });
		const { error } = await collect(createProvider(config).stream(ask()));
		expect(error?.kind).toBe('auth');
	});

	it('returns the offline provider as given, and insists on having one', () => {
		const config = llm({ LLM_PROVIDER: 'offline' });
		const { provider: offline } = scripted();
		expect(createProvider(config, { offline })).toBe(offline);
		expect(() => createProvider(config)).toThrow(/offline provider/);
	});
});
