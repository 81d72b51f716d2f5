/**
 * The `mock` provider for tests, benchmarks and demos: a deterministic answer streamed at a steady
 * pace with no network and no cost.
 *
 * Each answer is `tokenCount` text events, each after a pause of `tokenDelayMs` (so the first one
 * also waits, like a real time-to-first-token). The first event quotes the last user message so a
 * test can tell answers apart: `Mock answer to "hello": Token 1 `, then `Token 2 `, `Token 3 `...
 * The count is capped by `maxTokens` (stopReason 'max_tokens' then, 'end_turn' otherwise).
 *
 * Markers in the last user message script the behaviour of that call:
 * - `[mock:error:KIND]` throws ProviderError(KIND) before the first token; KIND is any
 *   ProviderErrorKind (rate_limited, overloaded, server_error, timeout, auth, bad_request,
 *   network, interrupted, aborted).
 * - `[mock:error:KIND:N]` fails only the first N calls of this provider with that same message,
 *   then answers normally (to watch withRetries recover).
 * - `[mock:cut:N]` throws 'interrupted' right after the Nth token.
 * - `[mock:tokens:N]` streams N tokens instead of `tokenCount`.
 * - `[mock:delay:MS]` waits MS between tokens instead of `tokenDelayMs`; a huge value makes a
 *   provider that never answers (for timeout tests).
 * - `[mock:say]TEXT` answers exactly TEXT (everything after the marker), streamed in 8-character
 *   pieces: a stand-in for a model that writes something in particular, such as a solution.
 *
 * Aborting the signal ends the stream with ProviderError('aborted') at once, mid-pause included.
 *
 * Usage mirrors what Anthropic reports, so cost figures from tests and benchmarks are realistic:
 * input tokens are estimated at four characters a token, and with `promptCache` the mock keeps
 * Anthropic's prompt-cache rules (a breakpoint after each system block and on the last answer of
 * the history; a prefix is cached only from 1024 tokens; entries live 5 minutes from last use):
 * a repeated prefix is reported as `cachedInputTokens`, a new one as `cacheWriteTokens`. The
 * question's `<tutor-notes>` block is never echoed.
 */
import {
	PROVIDER_ERROR_KINDS,
	ProviderError,
	type GenerateRequest,
	type Provider,
	type ProviderErrorKind,
	type StreamEvent
} from './types.ts';

export interface MockProviderOptions {
	model?: string;
	tokenDelayMs: number;
	tokenCount: number;
}

/** The scripted behaviour read from one message's markers. */
export interface MockScript {
	error?: { kind: ProviderErrorKind; times?: number };
	cutAfter?: number;
	tokens?: number;
	delayMs?: number;
	say?: string;
}

/**
 * Reads the `[mock:...]` markers of a message; unknown markers are ignored.
 *
 * @example
 * parseMockScript('[mock:cut:3] hi'); // { cutAfter: 3 }
 */
export function parseMockScript(message: string): MockScript {
	const script: MockScript = {};
	for (const [, name, value, extra] of message.matchAll(/\[mock:(\w+):(\w+)(?::(\d+))?\]/g)) {
		const n = Number(value);
		if (
			name === 'error' &&
			(PROVIDER_ERROR_KINDS as readonly (string | undefined)[]).includes(value)
		)
			script.error = { kind: value as ProviderErrorKind, times: extra ? Number(extra) : undefined };
		else if (name === 'cut' && Number.isInteger(n)) script.cutAfter = n;
		else if (name === 'tokens' && Number.isInteger(n)) script.tokens = n;
		else if (name === 'delay' && Number.isInteger(n)) script.delayMs = n;
	}
	const say = message.indexOf('[mock:say]');
	if (say >= 0) script.say = message.slice(say + '[mock:say]'.length);
	return script;
}

/**
 * Creates the mock provider.
 *
 * @example
 * const mock = createMockProvider({ tokenDelayMs: 0, tokenCount: 5 });
 */
export function createMockProvider(options: MockProviderOptions): Provider {
	// Failures already served per message, for `[mock:error:KIND:N]`.
	const failures = new Map<string, number>();
	const promptCache = new Map<string, number>();
	return {
		name: 'mock',
		model: options.model ?? 'mock-tutor',
		stream: (request) => streamMock(options, failures, promptCache, request)
	};
}

function streamMock(
	options: MockProviderOptions,
	failures: Map<string, number>,
	promptCache: Map<string, number>,
	request: GenerateRequest
): AsyncIterableIterator<StreamEvent> {
	const last = (request.messages.findLast((m) => m.role === 'user')?.content ?? '').replace(
		/^<tutor-notes>[\s\S]*?<\/tutor-notes>\n*/,
		''
	);
	const script = parseMockScript(last);
	let failure: ProviderError | null = null;
	if (request.signal.aborted) failure = aborted();
	else if (script.error) {
		const served = failures.get(last) ?? 0;
		if (script.error.times === undefined || served < script.error.times) {
			failures.set(last, served + 1);
			failure = new ProviderError(script.error.kind, `mock ${script.error.kind}`);
		}
	}
	const pieces = script.say?.match(/[\s\S]{1,8}/g);
	const wanted = pieces?.length ?? script.tokens ?? options.tokenCount;
	const count = Math.min(wanted, request.maxTokens);
	return new MockStream(request, {
		failure,
		count,
		delayMs: script.delayMs ?? options.tokenDelayMs,
		cutAfter: script.cutAfter,
		text: (i) =>
			pieces ? pieces[i - 1]! : i === 1 ? `Mock answer to "${last}": Token 1 ` : `Token ${i} `,
		done: () => ({
			type: 'done',
			usage: { ...cacheUsage(promptCache, request), outputTokens: count },
			stopReason: count < wanted ? 'max_tokens' : 'end_turn'
		})
	});
}

/**
 * The mock's events: `count` pieces of text `delayMs` apart, then the end (or `failure` at the
 * first event, or 'interrupted' after piece `cutAfter`). An iterator rather than an async
 * generator, so a token costs one promise and one timer, as a network stream's would; one abort
 * listener ends the pause under way.
 */
interface MockAnswer {
	failure: ProviderError | null;
	count: number;
	delayMs: number;
	cutAfter?: number;
	text: (i: number) => string;
	done: () => StreamEvent;
}

class MockStream implements AsyncIterableIterator<StreamEvent> {
	readonly #signal: AbortSignal;
	readonly #script: MockAnswer;
	#sent = 0;
	#ended = false;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#reject: ((error: unknown) => void) | undefined;

	constructor(request: GenerateRequest, script: MockAnswer) {
		this.#signal = request.signal;
		this.#script = script;
		this.#signal.addEventListener('abort', this.#onAbort, { once: true });
	}

	[Symbol.asyncIterator]() {
		return this;
	}

	next(): Promise<IteratorResult<StreamEvent>> {
		if (this.#ended) return Promise.resolve({ done: true, value: undefined });
		const { failure, count, cutAfter } = this.#script;
		if (failure) return this.#fail(failure);
		if (this.#signal.aborted) return this.#fail(aborted());
		if (cutAfter !== undefined && this.#sent === cutAfter && this.#sent > 0)
			return this.#fail(new ProviderError('interrupted', `mock cut after ${cutAfter} tokens`));
		if (this.#sent === count) {
			this.#sent++;
			this.#end();
			return Promise.resolve({ done: false, value: this.#script.done() });
		}
		return new Promise((resolve, reject) => {
			this.#reject = reject;
			const i = ++this.#sent;
			const emit = () =>
				resolve({ done: false, value: { type: 'text', text: this.#script.text(i) } });
			// A zero delay still yields to the event loop, so a long mock answer cannot starve the server.
			if (this.#script.delayMs > 0) this.#timer = setTimeout(emit, this.#script.delayMs);
			else setImmediate(emit);
		});
	}

	return(): Promise<IteratorResult<StreamEvent>> {
		this.#end();
		return Promise.resolve({ done: true, value: undefined });
	}

	#fail(error: ProviderError): Promise<never> {
		this.#end();
		return Promise.reject(error);
	}

	#end() {
		this.#ended = true;
		clearTimeout(this.#timer);
		this.#signal.removeEventListener('abort', this.#onAbort);
	}

	readonly #onAbort = () => {
		clearTimeout(this.#timer);
		this.#reject?.(aborted());
	};
}

function aborted(): ProviderError {
	return new ProviderError('aborted', 'the request was cancelled');
}

/** About four characters a token, close enough for budgets and benchmarks. */
function estimateTokens(request: GenerateRequest): number {
	const chars = request.messages.reduce((sum, m) => sum + m.content.length, request.system.length);
	return Math.ceil(chars / 4);
}

const CACHE_MIN_TOKENS = 1024;
const CACHE_TTL_MS = 5 * 60_000;

/** Input, cached and cache-write tokens of a request under Anthropic's prompt-cache rules. */
function cacheUsage(cache: Map<string, number>, request: GenerateRequest) {
	const inputTokens = estimateTokens(request);
	if (!request.promptCache) return { inputTokens, cachedInputTokens: 0 };
	const now = Date.now();
	for (const [key, expires] of cache) if (expires < now) cache.delete(key);
	// Prefixes ending at each system block and at each message up to the last answer, shortest
	// first. The breakpoints (written to the cache) are the system blocks and the last answer; a hit
	// may be any earlier prefix, as Anthropic looks back from a breakpoint for an entry.
	const model = request.model ?? '';
	const prefixes: { key: string; tokens: number; breakpoint: boolean }[] = [];
	let text = model;
	let chars = 0;
	for (const block of request.systemBlocks ?? [request.system]) {
		text += '\u0000' + block;
		chars += block.length;
		prefixes.push({ key: text, tokens: Math.ceil(chars / 4), breakpoint: true });
	}
	const lastAnswer = request.messages.findLastIndex((m) => m.role === 'assistant');
	request.messages.slice(0, lastAnswer + 1).forEach((m, i) => {
		text += `\u0000${m.role}\u0000${m.content}`;
		chars += m.content.length;
		prefixes.push({ key: text, tokens: Math.ceil(chars / 4), breakpoint: i === lastAnswer });
	});
	const cacheable = prefixes.filter((p) => p.tokens >= CACHE_MIN_TOKENS);
	const hit = cacheable.findLast((p) => cache.has(p.key));
	const written = cacheable.filter((p) => p.breakpoint);
	const longest = written.at(-1);
	for (const p of written) cache.set(p.key, now + CACHE_TTL_MS);
	if (hit) cache.set(hit.key, now + CACHE_TTL_MS);
	const cachedInputTokens = hit?.tokens ?? 0;
	const cacheWriteTokens =
		longest && longest.tokens > cachedInputTokens ? longest.tokens - cachedInputTokens : 0;
	return { inputTokens, cachedInputTokens, ...(cacheWriteTokens ? { cacheWriteTokens } : {}) };
}
