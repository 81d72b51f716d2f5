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
 * A Provider for Claude models. The system prompt is one cached block: it is identical for every
 * question, so after the first call it is read from Anthropic's prompt cache at a tenth of the
 * price. The SDK never retries; withRetries decides, because only it knows whether text was shown.
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
				model,
				max_tokens: request.maxTokens,
				system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
				messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
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
			cachedInputTokens: this.cacheRead
		};
	}
}
