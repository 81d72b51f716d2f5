/**
 * A local stand-in for OpenAI chat completions (`POST …/chat/completions` under any prefix, so it
 * serves `/v1`, Gemini's `/v1beta/openai` and Ollama alike), speaking the real HTTP and SSE wire
 * format: `data: {chunk}` lines, a final usage chunk when `stream_options.include_usage` is set,
 * then `data: [DONE]`.
 *
 * Each request takes the next scenario from `fake.scenarios` (a queue the test fills); when the
 * queue is empty the answer streams `options.chunks`. A wrong `Authorization: Bearer` key gets
 * 401 without using a scenario.
 *
 * @example
 * const fake = await startFakeOpenAI({ apiKey: 'sk-test' });
 * fake.scenarios.push({ kind: 'status', status: 429, headers: { 'retry-after-ms': '20' } });
 * const gpt = createOpenAIProvider({ name: 'openai', model: 'gpt-test', apiKey: 'sk-test', baseUrl: `${fake.url}/v1` });
 * await fake.close();
 */
import { createServer, type ServerResponse } from 'node:http';
import { listen, record, requestLog, type RecordedRequest } from './server.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export type OpenAIScenario =
	/** A normal answer: the chunks as content deltas, `delayMs` apart. */
	| {
			kind: 'stream';
			chunks?: string[];
			delayMs?: number;
			finishReason?: string;
			usage?: { prompt?: number; completion?: number; cached?: number };
	  }
	/** An error response (429, 500, 503...) with OpenAI's JSON error body. */
	| { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
	/** Streams `afterChunks` chunks, then a `data: {"error": …}` line, then closes. */
	| { kind: 'error-event'; afterChunks: number; chunks?: string[] }
	/** Accepts the request and never answers, not even headers. */
	| { kind: 'hang' }
	/** Streams `afterChunks` chunks, then destroys the socket: no finish_reason, no [DONE]. */
	| { kind: 'cut'; afterChunks: number; chunks?: string[]; delayMs?: number };

export interface FakeOpenAIOptions {
	/** The key `Authorization: Bearer` must carry; any key is accepted when unset. */
	apiKey?: string;
	/** The default answer, one content delta each. */
	chunks?: string[];
	delayMs?: number;
}

export interface FakeOpenAI {
	/** Origin (no path): append `/v1` or the provider's own prefix for the SDK's baseURL. */
	url: string;
	requests: RecordedRequest[];
	/**
	 * Resolves with the `count`th request (default the first) once the fake has read it: wait for
	 * this, not for a guessed time, before acting on a request in flight.
	 */
	received(count?: number): Promise<RecordedRequest>;
	scenarios: OpenAIScenario[];
	close(): Promise<void>;
}

const ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
	400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
	401: {
		type: 'invalid_request_error',
		code: 'invalid_api_key',
		message:
			'Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.'
	},
	404: {
		type: 'invalid_request_error',
		code: 'model_not_found',
		message: 'The model does not exist.'
	},
	429: {
		type: 'requests',
		code: 'rate_limit_exceeded',
		message: 'Rate limit reached for requests.'
	},
	500: {
		type: 'server_error',
		code: null,
		message: 'The server had an error while processing your request. Sorry about that!'
	},
	503: {
		type: 'server_error',
		code: null,
		message: 'The engine is currently overloaded, please try again later.'
	}
};

/**
 * Starts the fake on 127.0.0.1 with a free port.
 *
 * @example
 * const fake = await startFakeOpenAI({ chunks: ['Hi', ' there'] });
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
	const { requests, add, received } = requestLog();
	const scenarios: OpenAIScenario[] = [];
	let ids = 0;
	const server = createServer(async (req, res) => {
		const recorded = await record(req, res);
		add(recorded);
		const id = `chatcmpl-fake${++ids}`;
		if (req.method !== 'POST' || !recorded.path.endsWith('/chat/completions'))
			return sendError(res, 404, `Unknown path ${recorded.path}`);
		if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`)
			return sendError(res, 401);
		const scenario = scenarios.shift() ?? { kind: 'stream' };
		const defaults = {
			chunks: options.chunks ?? ['Hello', ' from', ' fake', ' GPT.'],
			delayMs: options.delayMs ?? 2
		};
		await play(res, scenario, defaults, recorded.body, id);
	});
	return { ...(await listen(server)), requests, received, scenarios };
}

interface ChatBody {
	model?: string;
	stream_options?: { include_usage?: boolean };
}

async function play(
	res: ServerResponse,
	scenario: OpenAIScenario,
	defaults: { chunks: string[]; delayMs: number },
	body: ChatBody | undefined,
	id: string
): Promise<void> {
	const chunk = chunkMaker(id, body);
	switch (scenario.kind) {
		case 'status':
			return sendError(res, scenario.status, scenario.message, scenario.headers);
		case 'hang':
			return;
		case 'stream': {
			const chunks = scenario.chunks ?? defaults.chunks;
			startStream(res, chunk);
			if (!(await streamText(res, chunks, scenario.delayMs ?? defaults.delayMs, chunk))) return;
			send(res, chunk({}, scenario.finishReason ?? 'stop'));
			if (body?.stream_options?.include_usage) {
				const usage = scenario.usage ?? {};
				const prompt = usage.prompt ?? 12;
				const completion = usage.completion ?? chunks.length;
				send(res, {
					...chunk({}, null),
					choices: [],
					usage: {
						prompt_tokens: prompt,
						completion_tokens: completion,
						total_tokens: prompt + completion,
						prompt_tokens_details: { cached_tokens: usage.cached ?? 0, audio_tokens: 0 },
						completion_tokens_details: {
							reasoning_tokens: 0,
							audio_tokens: 0,
							accepted_prediction_tokens: 0,
							rejected_prediction_tokens: 0
						}
					}
				});
			}
			res.end('data: [DONE]\n\n');
			return;
		}
		case 'error-event': {
			const chunks = (scenario.chunks ?? defaults.chunks).slice(0, scenario.afterChunks);
			startStream(res, chunk);
			if (!(await streamText(res, chunks, defaults.delayMs, chunk))) return;
			send(res, { error: { ...ERRORS[500], param: null } });
			res.end();
			return;
		}
		case 'cut': {
			const chunks = (scenario.chunks ?? defaults.chunks).slice(0, scenario.afterChunks);
			startStream(res, chunk);
			if (!(await streamText(res, chunks, scenario.delayMs ?? defaults.delayMs, chunk))) return;
			// Let the last chunk reach the client before the connection dies mid-response.
			await new Promise((resolve) => res.write('', resolve));
			res.socket?.destroy();
			return;
		}
	}
}

type ChunkMaker = (delta: Record<string, unknown>, finishReason: string | null) => object;

function chunkMaker(id: string, body: ChatBody | undefined): ChunkMaker {
	const created = Math.floor(Date.now() / 1000);
	const includeUsage = Boolean(body?.stream_options?.include_usage);
	return (delta, finishReason) => ({
		id,
		object: 'chat.completion.chunk',
		created,
		model: body?.model ?? 'gpt-fake',
		system_fingerprint: 'fp_fake',
		choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
		...(includeUsage ? { usage: null } : {})
	});
}

function startStream(res: ServerResponse, chunk: ChunkMaker): void {
	res.writeHead(200, {
		'content-type': 'text/event-stream; charset=utf-8',
		'cache-control': 'no-cache',
		'x-request-id': 'req_fake'
	});
	send(res, chunk({ role: 'assistant', content: '', refusal: null }, null));
}

/** Returns false when the client went away, so the scenario stops writing. */
async function streamText(
	res: ServerResponse,
	chunks: string[],
	delayMs: number,
	chunk: ChunkMaker
) {
	for (const content of chunks) {
		await sleep(delayMs);
		if (res.destroyed) return false;
		send(res, chunk({ content }, null));
	}
	return !res.destroyed;
}

function send(res: ServerResponse, data: unknown): void {
	res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function sendError(
	res: ServerResponse,
	status: number,
	message?: string,
	headers: Record<string, string> = {}
): void {
	const known = ERRORS[status] ?? {
		type: status >= 500 ? 'server_error' : 'invalid_request_error',
		code: null,
		message: `HTTP ${status}`
	};
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(JSON.stringify({ error: { ...known, message: message ?? known.message, param: null } }));
}

export type { RecordedRequest };
