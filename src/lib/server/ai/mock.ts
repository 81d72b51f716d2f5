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
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
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
	return {
		name: 'mock',
		model: options.model ?? 'mock-tutor',
		stream: (request) => streamMock(options, failures, request)
	};
}

async function* streamMock(
	options: MockProviderOptions,
	failures: Map<string, number>,
	request: GenerateRequest
): AsyncGenerator<StreamEvent> {
	const { signal } = request;
	const last = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
	const script = parseMockScript(last);
	if (signal.aborted) throw aborted();
	if (script.error) {
		const served = failures.get(last) ?? 0;
		if (script.error.times === undefined || served < script.error.times) {
			failures.set(last, served + 1);
			throw new ProviderError(script.error.kind, `mock ${script.error.kind}`);
		}
	}
	const pieces = script.say?.match(/[\s\S]{1,8}/g);
	const wanted = pieces?.length ?? script.tokens ?? options.tokenCount;
	const count = Math.min(wanted, request.maxTokens);
	const delayMs = script.delayMs ?? options.tokenDelayMs;
	for (let i = 1; i <= count; i++) {
		await pause(delayMs, signal);
		yield {
			type: 'text',
			text: pieces ? pieces[i - 1]! : i === 1 ? `Mock answer to "${last}": Token 1 ` : `Token ${i} `
		};
		if (script.cutAfter === i) throw new ProviderError('interrupted', `mock cut after ${i} tokens`);
	}
	yield {
		type: 'done',
		usage: { inputTokens: estimateTokens(request), outputTokens: count, cachedInputTokens: 0 },
		stopReason: count < wanted ? 'max_tokens' : 'end_turn'
	};
}

/** A zero delay still yields to the event loop, so a long mock answer cannot starve the server. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
	try {
		if (ms > 0) await sleep(ms, undefined, { signal });
		else await nextTurn(undefined, { signal });
	} catch {
		throw aborted();
	}
}

function aborted(): ProviderError {
	return new ProviderError('aborted', 'the request was cancelled');
}

/** About four characters a token, close enough for budgets and benchmarks. */
function estimateTokens(request: GenerateRequest): number {
	const chars = request.messages.reduce((sum, m) => sum + m.content.length, request.system.length);
	return Math.ceil(chars / 4);
}
