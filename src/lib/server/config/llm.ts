/**
 * Which AI provider and model the tutor uses, and which embeddings retrieval uses: an explicit
 * LLM_PROVIDER wins, otherwise the first provider whose key is set, otherwise the offline tutor.
 *
 * @example
 * const provider = chooseProvider(env, production, problems, warnings);
 * const llm = llmSettings(env, provider); // llm.model is 'claude-sonnet-4-5' by default for anthropic
 */
import type { Env, LlmProvider } from './env';
import type { Config } from './types';

/** Default model per provider; LLM_MODEL or the provider's own *_MODEL setting overrides it. */
export const DEFAULT_MODELS: Record<LlmProvider, string> = {
	anthropic: 'claude-sonnet-4-5',
	openai: 'gpt-4.1-mini',
	google: 'gemini-2.5-flash',
	'openai-compatible': 'llama3.1',
	mock: 'mock-tutor',
	offline: 'course-search'
};

/** The cheaper model routing picks for simple questions; LLM_CHEAP_MODEL overrides it. */
export const CHEAP_MODELS: Record<LlmProvider, string> = {
	anthropic: 'claude-haiku-4-5',
	openai: 'gpt-4.1-nano',
	google: 'gemini-2.5-flash-lite',
	'openai-compatible': '',
	mock: 'mock-tutor-mini',
	offline: ''
};

function providerKey(env: Env, provider: LlmProvider) {
	switch (provider) {
		case 'anthropic':
			return env.ANTHROPIC_API_KEY;
		case 'openai':
			return env.OPENAI_API_KEY;
		case 'google':
			return env.GOOGLE_API_KEY;
		case 'openai-compatible':
			// Local servers (Ollama, LM Studio) need no key; a base URL is what makes them usable.
			return env.LLM_BASE_URL;
		default:
			return 'not-needed';
	}
}

function modelFor(env: Env, provider: LlmProvider): string {
	const own =
		provider === 'anthropic'
			? env.ANTHROPIC_MODEL
			: provider === 'openai'
				? env.OPENAI_MODEL
				: provider === 'google'
					? env.GOOGLE_MODEL
					: undefined;
	return own ?? DEFAULT_MODELS[provider];
}

/**
 * Picks the provider. A missing key is fatal in production and a warning in development, where the
 * tutor simply fails until one is set.
 */
export function chooseProvider(
	env: Env,
	production: boolean,
	problems: string[],
	warnings: string[]
): LlmProvider {
	const anyLlmKey = Boolean(
		env.ANTHROPIC_API_KEY || env.OPENAI_API_KEY || env.GOOGLE_API_KEY || env.LLM_BASE_URL
	);
	let provider: LlmProvider;
	if (env.LLM_PROVIDER) {
		provider = env.LLM_PROVIDER;
	} else if (production && !anyLlmKey) {
		problems.push(
			'no LLM key is set (ANTHROPIC_API_KEY, OPENAI_API_KEY, GOOGLE_API_KEY or LLM_BASE_URL); set one, or set LLM_PROVIDER=offline to run the tutor on course material only'
		);
		provider = 'offline';
	} else {
		provider = env.ANTHROPIC_API_KEY
			? 'anthropic'
			: env.OPENAI_API_KEY
				? 'openai'
				: env.GOOGLE_API_KEY
					? 'google'
					: env.LLM_BASE_URL
						? 'openai-compatible'
						: 'offline';
	}
	if (!providerKey(env, provider)) {
		const need =
			provider === 'openai-compatible' ? 'LLM_BASE_URL' : `${provider.toUpperCase()}_API_KEY`;
		const message = `LLM_PROVIDER=${provider} but ${need} is not set; the tutor will fail until it is`;
		if (production) problems.push(message);
		else warnings.push(message);
	}
	return provider;
}

export function llmSettings(env: Env, provider: LlmProvider): Config['llm'] {
	return {
		provider,
		anthropicApiKey: env.ANTHROPIC_API_KEY,
		openaiApiKey: env.OPENAI_API_KEY,
		googleApiKey: env.GOOGLE_API_KEY,
		model: env.LLM_MODEL ?? modelFor(env, provider),
		anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
		openaiBaseUrl: env.OPENAI_BASE_URL,
		googleBaseUrl: env.GOOGLE_BASE_URL,
		baseUrl: env.LLM_BASE_URL,
		apiKey: env.LLM_API_KEY,
		timeoutSeconds: env.LLM_TIMEOUT_SECONDS,
		firstTokenTimeoutSeconds: env.LLM_FIRST_TOKEN_TIMEOUT_SECONDS,
		maxRetries: env.LLM_MAX_RETRIES,
		maxOutputTokens: env.LLM_MAX_OUTPUT_TOKENS,
		historyTokenBudget: env.TUTOR_HISTORY_TOKEN_BUDGET,
		mock: { tokenDelayMs: env.MOCK_TOKEN_DELAY_MS, tokenCount: env.MOCK_TOKEN_COUNT }
	};
}

/** Cohere when its key is set, else Voyage, else none (retrieval then uses full-text search). */
export function embeddingSettings(env: Env): Config['embeddings'] {
	return env.COHERE_API_KEY
		? {
				provider: 'cohere',
				apiKey: env.COHERE_API_KEY,
				baseUrl: env.COHERE_BASE_URL ?? 'https://api.cohere.com',
				model: env.EMBEDDING_MODEL ?? 'embed-english-v3.0'
			}
		: env.VOYAGE_API_KEY
			? {
					provider: 'voyage',
					apiKey: env.VOYAGE_API_KEY,
					baseUrl: env.VOYAGE_BASE_URL ?? 'https://api.voyageai.com',
					model: env.EMBEDDING_MODEL ?? 'voyage-3.5'
				}
			: { provider: null, baseUrl: '', model: '' };
}
