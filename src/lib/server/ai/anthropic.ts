/**
 * The Anthropic Messages API as a tutor Provider, streaming through the official SDK.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources';
import { streamEndedEarly, toProviderError } from './errors.ts';
import { ProviderError, type GenerateRequest, type Provider, type StreamEvent } from './types.ts';

export interface AnthropicProviderOptions {
	model: string;
	/** Missing keys fail each call with 'auth' rather than at start-up, so the app still boots. */
	apiKey?: string;
	baseUrl?: string;
}

/**
 * A Provider for Claude models. With `promptCache` (the default in the engine) the request carries
 * cache breakpoints: after the instructions, after the conversation's course context, and on the
 * last answer of the history, so the next question in the conversation reads all of that from
 * Anthropic's prompt cache at a tenth of the input price. The SDK never retries; withRetries
 * decides, because only it knows whether text was shown.
 *
 * `usage.inputTokens` is the whole prompt (uncached + cache writes + cache reads), matching what
 * OpenAI reports as `prompt_tokens`; `cachedInputTokens` is the part read from the cache.
 *
 * @example
 * const claude = createAnthropicProvider({ model: 'claude-sonnet-4-5', apiKey });
 * for await (const event of claude.stream({ system, messages, maxTokens: 1024, signal })) { ... }
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): Provider {
	// Passing the key explicitly keeps the SDK from looking for credentials anywhere else.
	const client = options.apiKey
		? new Anthropic({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0 })
		: undefined;
	return {
		name: 'anthropic',
		model: options.model,
		stream: (request) => streamMessages(client, options.model, request)
	};
}

async function* streamMessages(
	client: Anthropic | undefined,
	model: string,
	request: GenerateRequest
): AsyncGenerator<StreamEvent> {
	if (!client) throw new ProviderError('auth', 'ANTHROPIC_API_KEY is not set');
	const { signal } = request;
	const usage = new UsageTotals();
	let sawText = false;
	let stopReason: string | undefined;
	let finished = false;
	try {
		const stream = await client.messages.create(
			{
				model: request.model ?? model,
				max_tokens: request.maxTokens,
				...anthropicPrompt(request),
				stream: true
			},
			{ signal, maxRetries: 0 }
		);
		for await (const event of stream) {
			usage.add(event);
			if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
				if (!event.delta.text) continue;
				sawText = true;
				yield { type: 'text', text: event.delta.text };
			} else if (event.type === 'message_delta') {
				stopReason = event.delta.stop_reason ?? undefined;
			} else if (event.type === 'message_stop') {
				finished = true;
			}
		}
	} catch (error) {
		throw toProviderError(error, { signal, sawText });
	}
	// The SDK ends the iteration quietly when the signal fires, so an abort looks like an early end.
	if (signal.aborted) throw toProviderError(signal.reason, { signal });
	if (!finished) throw streamEndedEarly(sawText);
	yield { type: 'done', usage: usage.total(), stopReason };
}

const EPHEMERAL = { type: 'ephemeral' } as const;

/**
 * System blocks and messages with cache breakpoints (at most 4 are allowed; this uses up to 3).
 * The history breakpoint sits on the answer before the new question: the next request repeats
 * everything up to there.
 */
export function anthropicPrompt(request: GenerateRequest) {
	const blocks = request.systemBlocks?.length ? request.systemBlocks : [request.system];
	const cache = request.promptCache !== false;
	const system = blocks
		.filter((text) => text)
		.map((text) => ({
			type: 'text' as const,
			text,
			...(cache ? { cache_control: EPHEMERAL } : {})
		}));
	const lastAnswer = cache ? request.messages.findLastIndex((m) => m.role === 'assistant') : -1;
	const messages = request.messages.map((m, i) =>
		i === lastAnswer
			? {
					role: m.role,
					content: [{ type: 'text' as const, text: m.content, cache_control: EPHEMERAL }]
				}
			: { role: m.role, content: m.content }
	);
	return { system, messages };
}

/** message_start carries the input counts; message_delta carries cumulative output counts. */
class UsageTotals {
	private input = 0;
	private cacheRead = 0;
	private cacheWrite = 0;
	private output = 0;

	add(event: RawMessageStreamEvent): void {
		const usage =
			event.type === 'message_start'
				? event.message.usage
				: event.type === 'message_delta'
					? event.usage
					: undefined;
		if (!usage) return;
		this.input = usage.input_tokens ?? this.input;
		this.cacheRead = usage.cache_read_input_tokens ?? this.cacheRead;
		this.cacheWrite = usage.cache_creation_input_tokens ?? this.cacheWrite;
		this.output = usage.output_tokens ?? this.output;
	}

	total() {
		return {
			inputTokens: this.input + this.cacheRead + this.cacheWrite,
			outputTokens: this.output,
			cachedInputTokens: this.cacheRead,
			...(this.cacheWrite ? { cacheWriteTokens: this.cacheWrite } : {})
		};
	}
}
