import { describe, expect, it } from 'vitest';
import {
	metricsText,
	observeHttpRequest,
	recordCacheLookup,
	recordLlmCall,
	recordRateLimited,
	routeOf,
	setActiveGenerationsSource,
	tagRoute,
	websocketClosed,
	websocketOpened
} from './metrics';

/** The value of one series in the Prometheus text, or undefined when it is absent. */
async function sample(series: string): Promise<number | undefined> {
	const line = (await metricsText()).split('\n').find((l) => l.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
	it('lists every tutor metric and the default process metrics', async () => {
		const text = await metricsText();
		for (const name of [
			'tutor_http_request_duration_seconds',
			'tutor_websockets_open',
			'tutor_generations_active',
			'tutor_llm_request_duration_seconds',
			'tutor_llm_time_to_first_token_seconds',
			'tutor_llm_tokens_total',
			'tutor_llm_output_tokens_per_second',
			'tutor_llm_cost_usd_total',
			'tutor_response_cache_requests_total',
			'tutor_response_cache_saved_usd_total',
			'tutor_rate_limited_total',
			'process_cpu_user_seconds_total',
			'nodejs_heap_size_used_bytes'
		])
			expect(text).toContain(`# TYPE ${name} `);
	});

	it('records an LLM call: latency, first token, tokens by kind, speed and cost', async () => {
		const labels = 'provider="anthropic",model="claude-test"';
		recordLlmCall({
			provider: 'anthropic',
			model: 'claude-test',
			outcome: 'ok',
			latencyMs: 2500,
			firstTokenMs: 500,
			inputTokens: 1200,
			outputTokens: 400,
			cachedInputTokens: 1000,
			costUsd: 0.0125
		});
		expect(
			await sample(`tutor_llm_request_duration_seconds_sum{${labels},outcome="ok"}`)
		).toBeCloseTo(2.5);
		expect(await sample(`tutor_llm_time_to_first_token_seconds_sum{${labels}}`)).toBeCloseTo(0.5);
		expect(await sample(`tutor_llm_tokens_total{${labels},kind="input"}`)).toBe(1200);
		expect(await sample(`tutor_llm_tokens_total{${labels},kind="output"}`)).toBe(400);
		expect(await sample(`tutor_llm_tokens_total{${labels},kind="cached_input"}`)).toBe(1000);
		// 400 tokens in the 2 s after the first one.
		expect(await sample(`tutor_llm_output_tokens_per_second_sum{${labels}}`)).toBeCloseTo(200);
		expect(await sample(`tutor_llm_cost_usd_total{${labels}}`)).toBeCloseTo(0.0125);
	});

	it('records a failed call without a first token, and never throws on bad numbers', async () => {
		const labels = 'provider="openai",model="gpt-test"';
		recordLlmCall({
			provider: 'openai',
			model: 'gpt-test',
			outcome: 'error',
			latencyMs: 30_000,
			firstTokenMs: null,
			inputTokens: Number.NaN,
			outputTokens: 0,
			costUsd: -1
		});
		expect(
			await sample(`tutor_llm_request_duration_seconds_count{${labels},outcome="error"}`)
		).toBe(1);
		expect(await sample(`tutor_llm_time_to_first_token_seconds_count{${labels}}`)).toBeUndefined();
		expect(await sample(`tutor_llm_tokens_total{${labels},kind="input"}`)).toBeUndefined();
		expect(await sample(`tutor_llm_cost_usd_total{${labels}}`)).toBeUndefined();
	});

	it('counts cache hits, misses and savings', async () => {
		const before = {
			hit: (await sample('tutor_response_cache_requests_total{result="hit"}'))!,
			miss: (await sample('tutor_response_cache_requests_total{result="miss"}'))!,
			saved: (await sample('tutor_response_cache_saved_usd_total'))!
		};
		expect(before).toEqual({ hit: expect.any(Number), miss: expect.any(Number), saved: 0 });
		recordCacheLookup(true, 0.02);
		recordCacheLookup(true, 0.03);
		recordCacheLookup(false, 0.5);
		expect(await sample('tutor_response_cache_requests_total{result="hit"}')).toBe(before.hit + 2);
		expect(await sample('tutor_response_cache_requests_total{result="miss"}')).toBe(
			before.miss + 1
		);
		expect(await sample('tutor_response_cache_saved_usd_total')).toBeCloseTo(0.05);
	});

	it('counts rate-limited requests by scope', async () => {
		recordRateLimited('login');
		recordRateLimited('login');
		recordRateLimited('tutor');
		expect(await sample('tutor_rate_limited_total{scope="login"}')).toBe(2);
		expect(await sample('tutor_rate_limited_total{scope="tutor"}')).toBe(1);
	});

	it('reads active generations from its source at scrape time', async () => {
		let running = 3;
		setActiveGenerationsSource(() => running);
		expect(await sample('tutor_generations_active')).toBe(3);
		running = 1;
		expect(await sample('tutor_generations_active')).toBe(1);
	});

	it('moves the open WebSocket gauge both ways', async () => {
		const start = (await sample('tutor_websockets_open'))!;
		websocketOpened();
		websocketOpened();
		websocketClosed();
		expect(await sample('tutor_websockets_open')).toBe(start + 1);
	});

	it('labels HTTP requests with route id, standard method and status class', async () => {
		const req = {};
		expect(routeOf(req)).toBe('static');
		tagRoute(req, '/learn/[module]');
		observeHttpRequest('get', routeOf(req), 200, 0.03);
		observeHttpRequest('BREW', routeOf(req), 418, 0.01);
		const unmatched = {};
		tagRoute(unmatched, null);
		observeHttpRequest('GET', routeOf(unmatched), 404, 0.01);
		expect(
			await sample(
				'tutor_http_request_duration_seconds_count{method="GET",route="/learn/[module]",status="2xx"}'
			)
		).toBe(1);
		expect(
			await sample(
				'tutor_http_request_duration_seconds_count{method="OTHER",route="/learn/[module]",status="4xx"}'
			)
		).toBe(1);
		expect(
			await sample(
				'tutor_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"}'
			)
		).toBe(1);
	});
});
