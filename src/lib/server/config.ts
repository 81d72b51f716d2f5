/**
 * Every setting the server reads, parsed once from the environment with valibot.
 *
 * Production (`NODE_ENV=production`) fails fast on anything unsafe; development fills in safe
 * defaults (embedded PGlite, offline tutor, a generated secret kept in the data folder) so that
 * `npm start` works with no setup.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError with every problem listed
 */
import * as v from 'valibot';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export class ConfigError extends Error {
	constructor(public readonly problems: string[]) {
		super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
		this.name = 'ConfigError';
	}
}

const PROVIDERS = [
	'anthropic',
	'openai',
	'google',
	'openai-compatible',
	'mock',
	'offline'
] as const;
export type LlmProvider = (typeof PROVIDERS)[number];

/** Values copied from examples must never sign real tokens. */
function isPlaceholder(secret: string): boolean {
	const letters = secret.toLowerCase().replace(/[^a-z]/g, '');
	return /changeme|replaceme|yoursecret|placeholder|generatewith|^x+$|^secret$/.test(letters);
}

const optionalString = v.optional(v.pipe(v.string(), v.trim()));
const int = (fallback: number, min: number, max: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+$/, 'must be a whole number'),
			v.transform(Number),
			v.minValue(min, `must be at least ${min}`),
			v.maxValue(max, `must be at most ${max}`)
		),
		String(fallback)
	);
const list = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) =>
		s
			.split(',')
			.map((x) => x.trim())
			.filter(Boolean)
	)
);

const EnvSchema = v.object({
	NODE_ENV: v.optional(v.string(), 'development'),
	PORT: int(3000, 1, 65535),
	HOST: optionalString,
	DATA_DIR: v.optional(v.string(), './data'),
	STARTER_CONTENT_DIR: v.optional(v.string(), './content/starter'),
	QUESTION_BANK_DIR: v.optional(v.string(), './content/questions'),
	DATABASE_URL: optionalString,
	DATABASE_POOL_MAX: int(10, 1, 200),
	ORIGIN: v.optional(
		v.pipe(v.string(), v.trim(), v.url('must be a URL like https://tutor.example.com'))
	),
	CORS_ORIGINS: list,
	JWT_SECRET_KEY: optionalString,
	ACCESS_TOKEN_TTL_SECONDS: int(900, 30, 86_400),
	REFRESH_TOKEN_TTL_DAYS: int(30, 1, 365),
	REFRESH_REUSE_GRACE_SECONDS: int(10, 0, 120),
	COOKIE_SECURE: v.optional(v.picklist(['auto', 'true', 'false']), 'auto'),
	ADMIN_EMAIL: list,
	LOGIN_RATE_LIMIT: int(10, 1, 10_000),
	LOGIN_RATE_WINDOW_SECONDS: int(900, 1, 86_400),
	REGISTER_RATE_LIMIT: int(30, 1, 10_000),
	REGISTER_RATE_WINDOW_SECONDS: int(3600, 1, 86_400),
	LLM_PROVIDER: v.optional(v.picklist(PROVIDERS, `must be one of ${PROVIDERS.join(', ')}`)),
	ANTHROPIC_API_KEY: optionalString,
	OPENAI_API_KEY: optionalString,
	GOOGLE_API_KEY: optionalString,
	LLM_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	LLM_API_KEY: optionalString,
	LLM_MODEL: optionalString,
	ANTHROPIC_MODEL: optionalString,
	OPENAI_MODEL: optionalString,
	GOOGLE_MODEL: optionalString,
	ANTHROPIC_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	OPENAI_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	GOOGLE_BASE_URL: v.optional(
		v.pipe(v.string(), v.trim(), v.url('must be a URL')),
		'https://generativelanguage.googleapis.com/v1beta/openai/'
	),
	LLM_TIMEOUT_SECONDS: int(60, 1, 3600),
	LLM_FIRST_TOKEN_TIMEOUT_SECONDS: int(30, 1, 600),
	LLM_MAX_RETRIES: int(2, 0, 10),
	LLM_MAX_OUTPUT_TOKENS: int(1024, 16, 64_000),
	TUTOR_HISTORY_TOKEN_BUDGET: int(6000, 256, 1_000_000),
	TUTOR_LEASE_SECONDS: int(15, 2, 600),
	TUTOR_FLUSH_MS: int(150, 10, 5000),
	TUTOR_RATE_LIMIT: int(30, 1, 100_000),
	TUTOR_RATE_WINDOW_SECONDS: int(60, 1, 86_400),
	WS_MAX_MESSAGES_PER_SECOND: int(20, 1, 10_000),
	MOCK_TOKEN_DELAY_MS: int(20, 0, 10_000),
	MOCK_TOKEN_COUNT: int(64, 1, 100_000),
	COHERE_API_KEY: optionalString,
	VOYAGE_API_KEY: optionalString,
	COHERE_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	VOYAGE_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	EMBEDDING_MODEL: optionalString,
	LOG_LEVEL: v.optional(
		v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
		'info'
	),
	SHUTDOWN_GRACE_SECONDS: int(10, 0, 600),
	WS_MAX_PAYLOAD_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024)
});

export interface Config {
	production: boolean;
	port: number;
	host: string;
	dataDir: string;
	/** Content pack loaded when the course is empty; '' disables it. */
	starterContentDir: string;
	/** Exam question files loaded on first start when there are no exams (empty: none). */
	questionBankDir: string;
	databaseUrl: string | undefined;
	databasePoolMax: number;
	origin: string | undefined;
	/** Origins allowed to open a WebSocket; compared with the Origin header, never with Host. */
	allowedOrigins: string[];
	jwtSecret: Uint8Array;
	accessTokenTtlSeconds: number;
	refreshTokenTtlDays: number;
	refreshReuseGraceSeconds: number;
	cookieSecure: 'auto' | boolean;
	adminEmails: string[];
	loginRateLimit: { limit: number; windowSeconds: number };
	registerRateLimit: { limit: number; windowSeconds: number };
	llm: {
		provider: LlmProvider;
		/** The model the configured provider is asked for. */
		model: string;
		anthropicApiKey?: string;
		anthropicBaseUrl?: string;
		openaiApiKey?: string;
		openaiBaseUrl?: string;
		googleApiKey?: string;
		googleBaseUrl: string;
		/** OpenAI-compatible server (Ollama, vLLM, LM Studio). */
		baseUrl?: string;
		apiKey?: string;
		/** Longest silence allowed while an answer streams. */
		timeoutSeconds: number;
		/** Longest wait for the first token (retried before it arrives). */
		firstTokenTimeoutSeconds: number;
		maxRetries: number;
		maxOutputTokens: number;
		/** Token budget for the conversation history sent with each question. */
		historyTokenBudget: number;
		mock: { tokenDelayMs: number; tokenCount: number };
	};
	/** Embeddings for retrieval: Cohere when its key is set, else Voyage, else none. */
	embeddings: {
		provider: 'cohere' | 'voyage' | null;
		apiKey?: string;
		baseUrl: string;
		model: string;
	};
	tutor: {
		/** A generation's claim on its conversation; renewed while it runs, taken over when it lapses. */
		leaseSeconds: number;
		/** How often streamed text is written to the database (and seen by other replicas). */
		flushMs: number;
		/** Tutor requests (send, continue, regenerate) per user per window, across replicas. */
		rateLimit: { limit: number; windowSeconds: number };
		/** WebSocket frames per second per socket before frames are refused. */
		maxMessagesPerSecond: number;
	};
	logLevel: string;
	shutdownGraceSeconds: number;
	wsMaxPayloadBytes: number;
	/** Non-fatal findings for the operator, logged once at start. */
	warnings: string[];
}

function providerKey(env: v.InferOutput<typeof EnvSchema>, provider: LlmProvider) {
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

/** Default model per provider; LLM_MODEL or the provider's own *_MODEL setting overrides it. */
export const DEFAULT_MODELS: Record<LlmProvider, string> = {
	anthropic: 'claude-sonnet-4-5',
	openai: 'gpt-4.1-mini',
	google: 'gemini-2.5-flash',
	'openai-compatible': 'llama3.1',
	mock: 'mock-tutor',
	offline: 'course-search'
};

function modelFor(env: v.InferOutput<typeof EnvSchema>, provider: LlmProvider): string {
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

/** Reads or creates the development signing secret so sessions survive restarts. */
function developmentSecret(dataDir: string): string {
	const file = path.join(dataDir, 'jwt-secret');
	if (existsSync(file)) {
		const existing = readFileSync(file, 'utf8').trim();
		if (existing.length >= 32) return existing;
	}
	mkdirSync(dataDir, { recursive: true });
	const secret = randomBytes(48).toString('base64url');
	writeFileSync(file, secret + '\n', { mode: 0o600 });
	return secret;
}

/**
 * Parses the environment. Pass `process.env` (not a copy made by a bundler): `NODE_ENV` is read
 * from the object, so build-time replacement of `process.env.NODE_ENV` cannot change the mode.
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
	// Empty strings from `.env` files mean "unset".
	const cleaned = Object.fromEntries(
		Object.entries(source).filter(([, value]) => value !== undefined && value !== '')
	);
	const parsed = v.safeParse(EnvSchema, cleaned);
	if (!parsed.success) {
		throw new ConfigError(
			parsed.issues.map((issue) => {
				const key = issue.path?.map((p) => String(p.key)).join('.') ?? 'environment';
				return `${key} ${issue.message}`;
			})
		);
	}
	const env = parsed.output;
	const production = env.NODE_ENV === 'production';
	const problems: string[] = [];
	const warnings: string[] = [];
	const dataDir = path.resolve(env.DATA_DIR);

	let secret = env.JWT_SECRET_KEY;
	if (production) {
		if (!secret) problems.push('JWT_SECRET_KEY is required in production (32+ random characters)');
		else if (isPlaceholder(secret))
			problems.push('JWT_SECRET_KEY is a placeholder; generate one with `openssl rand -base64 48`');
		else if (secret.length < 32)
			problems.push(`JWT_SECRET_KEY is too short (${secret.length} characters, need 32 or more)`);
		if (!env.DATABASE_URL)
			problems.push('DATABASE_URL is required in production (postgres://user:pass@host:5432/db)');
	} else if (!secret || secret.length < 32) {
		if (secret)
			warnings.push('JWT_SECRET_KEY is shorter than 32 characters; using a generated one');
		secret = developmentSecret(dataDir);
	}

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
	if (!env.COHERE_API_KEY && !env.VOYAGE_API_KEY)
		warnings.push(
			'no embedding key (COHERE_API_KEY or VOYAGE_API_KEY): retrieval uses full-text search only'
		);

	if (problems.length) throw new ConfigError(problems);

	const origin = env.ORIGIN ? new URL(env.ORIGIN).origin : undefined;
	const allowedOrigins = new Set<string>();
	for (const o of env.CORS_ORIGINS) {
		try {
			allowedOrigins.add(new URL(o).origin);
		} catch {
			throw new ConfigError([`CORS_ORIGINS entry "${o}" is not a URL`]);
		}
	}
	if (origin) allowedOrigins.add(origin);
	if (!production && allowedOrigins.size === 0) {
		// The laptop default: the app itself and Vite's dev server.
		for (const host of ['localhost', '127.0.0.1', '[::1]'])
			for (const port of [env.PORT, 5173]) allowedOrigins.add(`http://${host}:${port}`);
	}
	if (production && allowedOrigins.size === 0)
		warnings.push(
			'neither ORIGIN nor CORS_ORIGINS is set: every WebSocket connection will be refused'
		);

	return {
		production,
		port: env.PORT,
		host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
		dataDir,
		starterContentDir: env.STARTER_CONTENT_DIR && path.resolve(env.STARTER_CONTENT_DIR),
		questionBankDir: env.QUESTION_BANK_DIR && path.resolve(env.QUESTION_BANK_DIR),
		databaseUrl: env.DATABASE_URL,
		databasePoolMax: env.DATABASE_POOL_MAX,
		origin,
		allowedOrigins: [...allowedOrigins],
		jwtSecret: new TextEncoder().encode(secret),
		accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
		refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
		refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
		cookieSecure: env.COOKIE_SECURE === 'auto' ? 'auto' : env.COOKIE_SECURE === 'true',
		adminEmails: env.ADMIN_EMAIL.map((e) => e.toLowerCase()),
		loginRateLimit: { limit: env.LOGIN_RATE_LIMIT, windowSeconds: env.LOGIN_RATE_WINDOW_SECONDS },
		registerRateLimit: {
			limit: env.REGISTER_RATE_LIMIT,
			windowSeconds: env.REGISTER_RATE_WINDOW_SECONDS
		},
		llm: {
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
		},
		embeddings: env.COHERE_API_KEY
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
				: { provider: null, baseUrl: '', model: '' },
		tutor: {
			leaseSeconds: env.TUTOR_LEASE_SECONDS,
			flushMs: env.TUTOR_FLUSH_MS,
			rateLimit: { limit: env.TUTOR_RATE_LIMIT, windowSeconds: env.TUTOR_RATE_WINDOW_SECONDS },
			maxMessagesPerSecond: env.WS_MAX_MESSAGES_PER_SECOND
		},
		logLevel: env.LOG_LEVEL,
		shutdownGraceSeconds: env.SHUTDOWN_GRACE_SECONDS,
		wsMaxPayloadBytes: env.WS_MAX_PAYLOAD_BYTES,
		warnings
	};
}
