/**
 * Builds the tutor's Provider from the LLM settings: the configured backend, wrapped with retries
 * and timeouts.
 */
import type { Config } from '#lib/server/config.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { createMockProvider } from './mock.ts';
import { createOpenAIProvider } from './openai.ts';
import { withRetries } from './resilient.ts';
import type { Provider } from './types.ts';

export interface CreateProviderOptions {
	/** The course-material tutor, used when `config.provider` is 'offline'. */
	offline?: Provider;
}

/**
 * Returns the Provider for `config.provider`. Network providers and the mock get withRetries;
 * the offline provider is returned as given (it makes no calls that could fail transiently).
 * Missing API keys do not throw here: each call then fails with ProviderError('auth'), so the
 * server still starts and the health check can say what is wrong.
 *
 * @example
 * const tutor = createProvider(config.llm, { offline: createOfflineProvider(db) });
 */
export function createProvider(
	config: Config['llm'],
	options: CreateProviderOptions = {}
): Provider {
	if (config.provider === 'offline') {
		if (!options.offline)
			throw new Error('LLM_PROVIDER=offline but no offline provider was passed to createProvider');
		return options.offline;
	}
	return withRetries(baseProvider(config), {
		maxRetries: config.maxRetries,
		firstTokenTimeoutMs: config.firstTokenTimeoutSeconds * 1000,
		idleTimeoutMs: config.timeoutSeconds * 1000
	});
}

function baseProvider(config: Config['llm']): Provider {
	const { model } = config;
	switch (config.provider) {
		case 'anthropic':
			return createAnthropicProvider({
				model,
				apiKey: config.anthropicApiKey,
				baseUrl: config.anthropicBaseUrl
			});
		case 'openai':
			return createOpenAIProvider({
				name: 'openai',
				model,
				apiKey: config.openaiApiKey,
				baseUrl: config.openaiBaseUrl
			});
		case 'google':
			return createOpenAIProvider({
				name: 'google',
				model,
				apiKey: config.googleApiKey,
				baseUrl: config.googleBaseUrl
			});
		case 'openai-compatible':
			return createOpenAIProvider({
				name: 'openai-compatible',
				model,
				apiKey: config.apiKey,
				baseUrl: config.baseUrl
			});
		case 'mock':
			return createMockProvider({ model, ...config.mock });
		default:
			throw new Error(`unknown LLM provider ${String(config.provider)}`);
	}
}
