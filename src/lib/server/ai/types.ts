/**
 * The one interface every tutor provider implements. A provider streams text for a system prompt
 * and a message history, and reports failures as ProviderError with a kind the UI can explain.
 *
 * @example
 * for await (const event of provider.stream({ system, messages, maxTokens: 1024, signal })) {
 *   if (event.type === 'text') process.stdout.write(event.text);
 * }
 */
import type { LlmProvider } from '#lib/server/config.ts';

export interface ChatMessage {
	role: 'user' | 'assistant';
	content: string;
}

export interface GenerateRequest {
	/** Stable instructions first (cache-friendly), then per-conversation context. */
	system: string;
	/**
	 * The same system prompt in blocks, most stable first (instructions, then the conversation's
	 * course context, then anything that changes per question); `system` is their join. Providers
	 * with explicit prompt caching put a cache breakpoint after each stable block.
	 */
	systemBlocks?: string[];
	messages: ChatMessage[];
	/** A model other than the provider's own (the cheaper model chosen by routing). */
	model?: string;
	/** Ask for explicit prompt caching where the provider has it (Anthropic cache breakpoints). */
	promptCache?: boolean;
	maxTokens: number;
	/** Aborting stops the provider call: no more events, the HTTP request is cancelled. */
	signal: AbortSignal;
}

export interface Usage {
	inputTokens: number;
	outputTokens: number;
	cachedInputTokens?: number;
	/** Part of inputTokens written to the prompt cache (Anthropic bills these at 1.25x). */
	cacheWriteTokens?: number;
}

export type StreamEvent =
	{ type: 'text'; text: string } | { type: 'done'; usage?: Usage; stopReason?: string };

export interface Provider {
	readonly name: LlmProvider;
	readonly model: string;
	stream(request: GenerateRequest): AsyncIterable<StreamEvent>;
}

export const PROVIDER_ERROR_KINDS = [
	'rate_limited',
	'overloaded',
	'server_error',
	'timeout',
	'auth',
	'bad_request',
	'network',
	'interrupted',
	'aborted'
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

const USER_MESSAGES: Record<ProviderErrorKind, string> = {
	rate_limited:
		'The AI service is receiving too many requests right now. Please try again in a moment.',
	overloaded: 'The AI service is overloaded right now. Please try again in a moment.',
	server_error: 'The AI service had a problem answering. Please try again.',
	timeout: 'The AI service took too long to answer. Please try again.',
	auth: 'The tutor is not configured correctly (the AI service refused our key). Please tell your administrator.',
	bad_request:
		'The AI service could not process this conversation. Try rephrasing or starting a new conversation.',
	network: 'The tutor could not reach the AI service. Please try again.',
	interrupted: 'The answer was cut off by the AI service. You can continue or try again.',
	aborted: 'Stopped.'
};

/** The sentence a student sees for a failure kind (unknown kinds get a generic one). */
export function userMessageFor(kind: string): string {
	return (
		USER_MESSAGES[kind as ProviderErrorKind] ??
		'Something went wrong while answering. Please try again.'
	);
}

export class ProviderError extends Error {
	readonly kind: ProviderErrorKind;
	readonly status?: number;
	/** Worth retrying automatically (only before the first token has been streamed). */
	readonly retryable: boolean;
	/** How long the provider asked us to wait, when it said. */
	readonly retryAfterMs?: number;

	constructor(
		kind: ProviderErrorKind,
		message: string,
		options: { status?: number; retryAfterMs?: number; cause?: unknown } = {}
	) {
		super(message, { cause: options.cause });
		this.name = 'ProviderError';
		this.kind = kind;
		this.status = options.status;
		this.retryAfterMs = options.retryAfterMs;
		this.retryable = ['rate_limited', 'overloaded', 'server_error', 'timeout', 'network'].includes(
			kind
		);
	}

	/** A sentence for the student; never contains provider internals. */
	get userMessage(): string {
		return USER_MESSAGES[this.kind];
	}
}
