/**
 * A local stand-in for the Anthropic Messages API (`POST /v1/messages`), speaking its real HTTP
 * and SSE wire format so tests can run the real SDK against it.
 *
 * Each request takes the next scenario from `fake.scenarios` (a queue the test fills); when the
 * queue is empty the answer streams `options.chunks`. A wrong key (`x-api-key` or
 * `Authorization: Bearer`) gets 401 in Anthropic's error shape without using a scenario.
 *
 * @example
 * const fake = await startFakeAnthropic({ apiKey: 'sk-ant-test' });
 * fake.scenarios.push({ kind: 'status', status: 529 });
 * const claude = createAnthropicProvider({ model: 'claude-test', apiKey: 'sk-ant-test', baseUrl: fake.url });
 * await fake.close();
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { listen, record, requestLog, type RecordedRequest } from './server.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export type AnthropicScenario =
	/** A normal answer: the chunks as text deltas, `delayMs` apart. */
	| {
			kind: 'stream';
			chunks?: string[];
			delayMs?: number;
			stopReason?: string;
			usage?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
	  }
	/** An error response (429, 500, 529...) with Anthropic's JSON error body. */
	| { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
	/** Streams `afterChunks` chunks, then `event: error` with overloaded_error, then closes. */
	| { kind: 'error-event'; afterChunks: number; chunks?: string[] }
	/** Accepts the request and never answers, not even headers. */
	| { kind: 'hang' }
	/** Streams `afterChunks` chunks, then destroys the socket: no message_stop. */
	| { kind: 'cut'; afterChunks: number; chunks?: string[]; delayMs?: number };

export interface FakeAnthropicOptions {
	/** The key the request must carry; any key is accepted when unset. */
	apiKey?: string;
	/** The default answer, one text delta each. */
	chunks?: string[];
	delayMs?: number;
}

export interface FakeAnthropic {
	/** Origin to use as the SDK's baseURL. */
	url: string;
	requests: RecordedRequest[];
	/**
	 * Resolves with the `count`th request (default the first) once the fake has read it: wait for
	 * this, not for a guessed time, before acting on a request in flight.
	 */
	received(count?: number): Promise<RecordedRequest>;
	scenarios: AnthropicScenario[];
	close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
	400: 'invalid_request_error',
	401: 'authentication_error',
	403: 'permission_error',
	404: 'not_found_error',
	413: 'request_too_large',
	429: 'rate_limit_error',
	500: 'api_error',
	529: 'overloaded_error'
};

/**
 * Starts the fake on 127.0.0.1 with a free port.
 *
 * @example
 * const fake = await startFakeAnthropic({ chunks: ['Hi', ' there'] });
 */
export async function startFakeAnthropic(
	options: FakeAnthropicOptions = {}
): Promise<FakeAnthropic> {
	const { requests, add, received } = requestLog();
	const scenarios: AnthropicScenario[] = [];
	let ids = 0;
	const server = createServer(async (req, res) => {
		const recorded = await record(req, res);
		add(recorded);
		const requestId = `req_fake_${++ids}`;
		if (req.method !== 'POST' || recorded.path !== '/v1/messages')
			return sendError(res, 404, requestId, `Not found: ${recorded.path}`);
		if (options.apiKey && apiKeyOf(req.headers) !== options.apiKey)
			return sendError(res, 401, requestId, 'invalid x-api-key');
		const scenario = scenarios.shift() ?? { kind: 'stream' };
		const defaults = { chunks: options.chunks ?? ['Hello', ' from', ' fake', ' Claude.'] };
		await play(res, scenario, { ...defaults, delayMs: options.delayMs ?? 2 }, recorded, requestId);
	});
	return { ...(await listen(server)), requests, received, scenarios };
}

async function play(
	res: ServerResponse,
	scenario: AnthropicScenario,
	defaults: { chunks: string[]; delayMs: number },
	request: RecordedRequest,
	requestId: string
): Promise<void> {
	switch (scenario.kind) {
		case 'status':
			return sendError(res, scenario.status, requestId, scenario.message, scenario.headers);
		case 'hang':
			return;
		case 'stream': {
			const chunks = scenario.chunks ?? defaults.chunks;
			const usage = scenario.usage ?? {};
			startStream(res, requestId, request.body?.model, usage);
			if (!(await streamText(res, chunks, scenario.delayMs ?? defaults.delayMs))) return;
			send(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
			send(res, 'message_delta', {
				type: 'message_delta',
				delta: { stop_reason: scenario.stopReason ?? 'end_turn', stop_sequence: null },
				usage: { output_tokens: usage.output ?? chunks.length }
			});
			send(res, 'message_stop', { type: 'message_stop' });
			res.end();
			return;
		}
		case 'error-event': {
			const chunks = (scenario.chunks ?? defaults.chunks).slice(0, scenario.afterChunks);
			startStream(res, requestId, request.body?.model, {});
			if (!(await streamText(res, chunks, defaults.delayMs))) return;
			send(res, 'error', {
				type: 'error',
				error: { type: 'overloaded_error', message: 'Overloaded' },
				request_id: requestId
			});
			res.end();
			return;
		}
		case 'cut': {
			const chunks = (scenario.chunks ?? defaults.chunks).slice(0, scenario.afterChunks);
			startStream(res, requestId, request.body?.model, {});
			if (!(await streamText(res, chunks, scenario.delayMs ?? defaults.delayMs))) return;
			// Let the last chunk reach the client before the connection dies mid-response.
			await new Promise((resolve) => res.write('', resolve));
			res.socket?.destroy();
			return;
		}
	}
}

function startStream(
	res: ServerResponse,
	requestId: string,
	model: string | undefined,
	usage: { input?: number; cacheRead?: number; cacheWrite?: number }
): void {
	res.writeHead(200, {
		'content-type': 'text/event-stream; charset=utf-8',
		'cache-control': 'no-cache',
		'request-id': requestId
	});
	send(res, 'message_start', {
		type: 'message_start',
		message: {
			id: `msg_${requestId}`,
			type: 'message',
			role: 'assistant',
			model: model ?? 'claude-fake',
			content: [],
			stop_reason: null,
			stop_sequence: null,
			usage: {
				input_tokens: usage.input ?? 12,
				cache_creation_input_tokens: usage.cacheWrite ?? 0,
				cache_read_input_tokens: usage.cacheRead ?? 0,
				output_tokens: 1
			}
		}
	});
	send(res, 'content_block_start', {
		type: 'content_block_start',
		index: 0,
		content_block: { type: 'text', text: '' }
	});
	send(res, 'ping', { type: 'ping' });
}

/** Returns false when the client went away, so the scenario stops writing. */
async function streamText(res: ServerResponse, chunks: string[], delayMs: number) {
	for (const text of chunks) {
		await sleep(delayMs);
		if (res.destroyed) return false;
		send(res, 'content_block_delta', {
			type: 'content_block_delta',
			index: 0,
			delta: { type: 'text_delta', text }
		});
	}
	return !res.destroyed;
}

/**
 * The API takes the key as `x-api-key` (curl, older SDKs) or `Authorization: Bearer` (what SDK
 * 1.x sends), so the fake accepts both, like the real service.
 */
export function apiKeyOf(headers: IncomingHttpHeaders): string | undefined {
	const header = headers['x-api-key'];
	if (typeof header === 'string') return header;
	return headers.authorization?.match(/^Bearer (.+)$/)?.[1];
}

function send(res: ServerResponse, event: string, data: unknown): void {
	res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function sendError(
	res: ServerResponse,
	status: number,
	requestId: string,
	message?: string,
	headers: Record<string, string> = {}
): void {
	const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
	res.writeHead(status, {
		'content-type': 'application/json',
		'request-id': requestId,
		'x-should-retry': String(status === 429 || status >= 500),
		...headers
	});
	res.end(
		JSON.stringify({
			type: 'error',
			error: { type, message: message ?? type.replace(/_/g, ' ') },
			request_id: requestId
		})
	);
}

export type { RecordedRequest };
