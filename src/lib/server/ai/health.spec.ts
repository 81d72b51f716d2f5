import { describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../../../../tests/fakes/anthropic.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { checkProvider } from './health.ts';
import { createMockProvider } from './mock.ts';
import { ProviderError, type GenerateRequest, type Provider } from './types.ts';

/** Counts calls and remembers requests, delegating to `inner`. */
function counting(inner: Provider) {
	const requests: GenerateRequest[] = [];
	const provider: Provider = {
		name: inner.name,
		model: inner.model,
		stream(request) {
			requests.push(request);
			return inner.stream(request);
		}
	};
	return { provider, requests };
}

const failing = (error: ProviderError): Provider => ({
	name: 'openai',
	model: 'gpt-test',
	// eslint-disable-next-line require-yield -- fails before any event, like a refused call
	async *stream() {
		throw error;
	}
});

describe('checkProvider', () => {
	it('makes one tiny real call and reports success with latency', async () => {
		const { provider, requests } = counting(
			createMockProvider({ tokenDelayMs: 0, tokenCount: 50 })
		);
		const result = await checkProvider(provider, { now: () => Date.parse('2030-01-02T03:04:05Z') });
		expect(result).toEqual({
			ok: true,
			provider: 'mock',
			model: 'mock-tutor',
			latencyMs: expect.any(Number),
			checkedAt: '2030-01-02T03:04:05.000Z'
		});
		expect(requests).toHaveLength(1);
		expect(requests[0]?.maxTokens).toBeLessThanOrEqual(8);
	});

	it('reuses the result for cacheMs, then checks again', async () => {
		const { provider, requests } = counting(createMockProvider({ tokenDelayMs: 0, tokenCount: 1 }));
		let now = 1_000_000;
		const options = { cacheMs: 30_000, now: () => now };
		const first = await checkProvider(provider, options);
		now += 29_000;
		expect(await checkProvider(provider, options)).toBe(first);
		expect(requests).toHaveLength(1);
		now += 2_000;
		await checkProvider(provider, options);
		expect(requests).toHaveLength(2);
	});

	it('checks again when asked for a fresh result, sharing a call already in flight', async () => {
		const { provider, requests } = counting(createMockProvider({ tokenDelayMs: 0, tokenCount: 1 }));
		const first = await checkProvider(provider);
		const fresh = checkProvider(provider, { fresh: true });
		expect(checkProvider(provider, { fresh: true })).toBe(fresh);
		expect(await fresh).not.toBe(first);
		expect(requests).toHaveLength(2);
		expect(await checkProvider(provider)).toBe(await fresh);
	});

	it('shares one call between concurrent checks', async () => {
		const { provider, requests } = counting(createMockProvider({ tokenDelayMs: 5, tokenCount: 2 }));
		const results = await Promise.all([1, 2, 3].map(() => checkProvider(provider)));
		expect(new Set(results).size).toBe(1);
		expect(requests).toHaveLength(1);
	});

	it('reports the kind and a safe message with the status on failure', async () => {
		const error = new ProviderError('rate_limited', 'HTTP 429: raw provider text', { status: 429 });
		const result = await checkProvider(failing(error));
		expect(result).toMatchObject({ ok: false, provider: 'openai', kind: 'rate_limited' });
		expect(result.ok || result.message).toBe(`${error.userMessage} (HTTP 429)`);
	});

	it('reports a probe that takes too long as a timeout', async () => {
		const slow = createMockProvider({ tokenDelayMs: 10_000, tokenCount: 1 });
		const result = await checkProvider(slow, { timeoutMs: 30 });
		expect(result).toMatchObject({ ok: false, kind: 'timeout' });
	});

	it('never reveals the API key, through the real SDK and a refusing server', async () => {
		const fake = await startFakeAnthropic({ apiKey: 'sk-ant-right' });
		try {
			const secret = 'sk-ant-wrong-secret-123';
			const claude = createAnthropicProvider({ model: 'c', apiKey: secret, baseUrl: fake.url });
			const result = await checkProvider(claude);
			expect(result).toMatchObject({ ok: false, kind: 'auth' });
			expect(JSON.stringify(result)).not.toContain(secret);
			expect(result.ok || result.message).toMatch(/HTTP 401/);
			expect(fake.requests[0]?.body.max_tokens).toBeLessThanOrEqual(8);
		} finally {
			await fake.close();
		}
	});
});
