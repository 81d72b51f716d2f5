/**
 * OpenAI chat completions as a tutor Provider. The same wire format serves OpenAI itself, Google
 * Gemini's OpenAI-compatible endpoint, and local servers (Ollama, vLLM, LM Studio).
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { streamEndedEarly, toProviderError } from './errors.ts';
import {
	ProviderError,
	type GenerateRequest,
	type Provider,
	type StreamEvent,
	type Usage
} from './types.ts';

const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta/openai/';

export type OpenAIFlavour = 'openai' | 'google' | 'openai-compatible';

export interface OpenAIProviderOptions {
	name: OpenAIFlavour;
	model: string;
	/** Required for openai and google; local servers accept any key, so 'not-needed' is sent. */
	apiKey?: string;
	/** Required for openai-compatible (it has no default host); optional for the others. */
	baseUrl?: string;
}

/**
 * A Provider speaking OpenAI's streaming chat completions. The system prompt is always the first
 * message and never changes between questions, so OpenAI's automatic prompt caching (a stable
 * prefix of 1024+ tokens) applies; `usage.cachedInputTokens` reports what it saved. The SDK never
 * retries; withRetries decides, because only it knows whether text was shown.
 *
 * @example
 * const gemini = createOpenAIProvider({
 * 	name: 'google',
 * 	model: 'gemini-2.5-flash',
 * 	apiKey,
 * 	baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai/'
 * });
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
	const problem = configurationProblem(options);
	const client = problem
		? undefined
		: new OpenAI({
				apiKey: options.apiKey || 'not-needed',
				// Without this default a Google key would be sent to api.openai.com.
				baseURL: options.baseUrl ?? (options.name === 'google' ? GOOGLE_BASE_URL : undefined),
				maxRetries: 0,
				// OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment mean nothing to other hosts.
				...(options.name === 'openai' ? {} : { organization: null, project: null })
			});
	return {
		name: options.name,
		model: options.model,
		async *stream(request) {
			if (!client) throw new ProviderError('auth', problem ?? 'not configured');
			yield* streamChat(client, options, request);
		}
	};
}

function configurationProblem(options: OpenAIProviderOptions): string | undefined {
	if (options.name === 'openai-compatible')
		return options.baseUrl ? undefined : 'LLM_BASE_URL is not set';
	if (!options.apiKey) return `${options.name.toUpperCase()}_API_KEY is not set`;
	return undefined;
}

async function* streamChat(
	client: OpenAI,
	options: OpenAIProviderOptions,
	request: GenerateRequest
): AsyncGenerator<StreamEvent> {
	const { signal } = request;
	let sawText = false;
	let stopReason: string | undefined;
	let usage: Usage | undefined;
	try {
		const stream = await client.chat.completions.create(
			{
				model: request.model ?? options.model,
				messages: [
					{ role: 'system', content: request.system },
					...request.messages.map((m) => ({ role: m.role, content: m.content }))
				],
				// OpenAI's reasoning models refuse max_tokens; other hosts may not know the new name.
				...(options.name === 'openai'
					? { max_completion_tokens: request.maxTokens }
					: { max_tokens: request.maxTokens }),
				stream: true,
				stream_options: { include_usage: true }
			},
			{ signal, maxRetries: 0 }
		);
		for await (const chunk of stream) {
			if (chunk.usage) usage = toUsage(chunk.usage);
			for (const choice of chunk.choices) {
				const text = choice.delta?.content || choice.delta?.refusal;
				if (text) {
					sawText = true;
					yield { type: 'text', text };
				}
				if (choice.finish_reason) stopReason = choice.finish_reason;
			}
		}
	} catch (error) {
		throw toProviderError(error, { signal, sawText });
	}
	// The SDK ends the iteration quietly when the signal fires, so an abort looks like an early end.
	if (signal.aborted) throw toProviderError(signal.reason, { signal });
	// `data: [DONE]` is swallowed by the SDK; finish_reason is the marker we can see.
	if (!stopReason) throw streamEndedEarly(sawText);
	yield { type: 'done', usage, stopReason };
}

function toUsage(usage: NonNullable<ChatCompletionChunk['usage']>): Usage {
	const cached = usage.prompt_tokens_details?.cached_tokens;
	return {
		inputTokens: usage.prompt_tokens,
		outputTokens: usage.completion_tokens,
		...(cached === undefined ? {} : { cachedInputTokens: cached })
	};
}
