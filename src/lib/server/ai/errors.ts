/**
 * Turns whatever a provider SDK, `fetch` or the network threw into a ProviderError, so the rest of
 * the app deals with one error type whose kind says what to tell the student and whether a retry
 * can help.
 */
import {
	APIError as AnthropicApiError,
	APIConnectionError as AnthropicConnectionError,
	APIConnectionTimeoutError as AnthropicConnectionTimeoutError,
	APIUserAbortError as AnthropicUserAbortError
} from '@anthropic-ai/sdk';
import {
	APIError as OpenAIApiError,
	APIConnectionError as OpenAIConnectionError,
	APIConnectionTimeoutError as OpenAIConnectionTimeoutError,
	APIUserAbortError as OpenAIUserAbortError
} from 'openai';
import { ProviderError, type ProviderErrorKind } from './types.ts';

export interface ErrorContext {
	/** The caller's signal: once it has fired, every failure is just the abort showing through. */
	signal?: AbortSignal;
	/** Whether text was already streamed; a broken connection then means a cut-off answer. */
	sawText?: boolean;
}

const NETWORK_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EPIPE',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_SOCKET',
	'UND_ERR_CLOSED'
]);
const TIMEOUT_CODES = new Set([
	'ETIMEDOUT',
	'UND_ERR_CONNECT_TIMEOUT',
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT'
]);

/**
 * Maps any thrown value to a ProviderError. ProviderErrors pass through unchanged.
 *
 * @example
 * try { ... } catch (error) { throw toProviderError(error, { signal, sawText }); }
 */
export function toProviderError(error: unknown, context: ErrorContext = {}): ProviderError {
	if (error instanceof ProviderError) return error;
	if (context.signal?.aborted || isUserAbort(error)) return aborted(error);
	if (error instanceof AnthropicApiError || error instanceof OpenAIApiError)
		return fromApiError(error, context);
	const kind = networkKind(error);
	if (kind) return broken(kind, describe(error), context, error);
	if (isAbortError(error)) return new ProviderError('timeout', describe(error), { cause: error });
	return new ProviderError('server_error', `unexpected provider failure: ${describe(error)}`, {
		cause: error
	});
}

/**
 * The error for a stream that stopped without the provider's end marker (Anthropic
 * `message_stop`, OpenAI `finish_reason`): the answer is incomplete, never a success.
 *
 * @example
 * if (!finished) throw streamEndedEarly(sawText);
 */
export function streamEndedEarly(sawText: boolean): ProviderError {
	return broken('network', 'the stream ended without its end marker', { sawText });
}

/**
 * How long the provider asked us to wait, from `retry-after-ms` (milliseconds) or `retry-after`
 * (seconds or an HTTP date). Undefined when absent or unusable.
 *
 * @example
 * retryAfterMs(new Headers({ 'retry-after': '2' })); // 2000
 */
export function retryAfterMs(
	headers: Headers | undefined,
	now: number = Date.now()
): number | undefined {
	const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
	if (Number.isFinite(ms) && ms >= 0) return ms;
	const value = headers?.get('retry-after')?.trim();
	if (!value) return undefined;
	if (/^\d+(\.\d+)?$/.test(value)) return Number.parseFloat(value) * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function aborted(cause: unknown): ProviderError {
	return new ProviderError('aborted', 'the request was cancelled', { cause });
}

/**
 * Before any text was shown nothing is lost, so a broken stream keeps its own (retryable) kind;
 * after it, the student holds a partial answer and the honest word is 'interrupted'.
 */
function broken(
	kind: ProviderErrorKind,
	message: string,
	context: ErrorContext,
	cause?: unknown
): ProviderError {
	if (context.sawText) return new ProviderError('interrupted', message, { cause });
	return new ProviderError(kind, message, { cause });
}

function fromApiError(
	error: AnthropicApiError | OpenAIApiError,
	context: ErrorContext
): ProviderError {
	if (
		error instanceof AnthropicConnectionTimeoutError ||
		error instanceof OpenAIConnectionTimeoutError
	)
		return new ProviderError('timeout', error.message, { cause: error });
	if (error instanceof AnthropicConnectionError || error instanceof OpenAIConnectionError)
		return broken(networkKind(error.cause) ?? 'network', error.message, context, error);
	const status = error.status;
	const options = { status, retryAfterMs: retryAfterMs(error.headers), cause: error };
	// The SDKs' messages already start with the status and quote the body; neither holds the key.
	return new ProviderError(kindFor(status, errorType(error)), error.message, options);
}

/** Status first; errors sent inside a stream have no status, only the body's `type`. */
function kindFor(status: number | undefined, type: string | undefined): ProviderErrorKind {
	if (status === 529 || status === 503 || type === 'overloaded_error') return 'overloaded';
	if (status === 429 || type === 'rate_limit_error') return 'rate_limited';
	// A wrong model name or base URL (404) and an unpaid account (402) are fixed by the
	// administrator, like a bad key; retrying or rephrasing cannot help.
	if (status === 401 || status === 402 || status === 403 || status === 404) return 'auth';
	if (type === 'authentication_error' || type === 'permission_error') return 'auth';
	if (status === 408 || type === 'timeout_error') return 'timeout';
	if (status === 409 || (status !== undefined && status >= 500)) return 'server_error';
	if ((status !== undefined && status >= 400) || type === 'invalid_request_error')
		return 'bad_request';
	return 'server_error';
}

/** Anthropic exposes the body's `error.type` as `type`; OpenAI's `type` is its own field too. */
function errorType(error: AnthropicApiError | OpenAIApiError): string | undefined {
	const type: unknown = error.type;
	if (typeof type === 'string') return type;
	const body = error.error as { error?: { type?: unknown } } | undefined;
	return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}

function isUserAbort(error: unknown): boolean {
	return error instanceof AnthropicUserAbortError || error instanceof OpenAIUserAbortError;
}

function isAbortError(error: unknown): boolean {
	return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** Walks the cause chain: undici wraps socket errors in `TypeError: fetch failed` or `terminated`. */
function networkKind(error: unknown): ProviderErrorKind | undefined {
	let kind: ProviderErrorKind | undefined;
	for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
		if (typeof code === 'string' && NETWORK_CODES.has(code)) kind = 'network';
		if (current instanceof TypeError && /^(fetch failed|terminated|network)/i.test(current.message))
			kind = 'network';
		current = current.cause;
	}
	return kind;
}

function describe(error: unknown): string {
	return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
