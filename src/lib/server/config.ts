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
import { trustList, type ProxySettings } from './http/proxy';

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
/** A whole number with no default: for old names kept as aliases of newer settings. */
const optionalInt = (min: number, max: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+$/, 'must be a whole number'),
			v.transform(Number),
			v.minValue(min, `must be at least ${min}`),
			v.maxValue(max, `must be at most ${max}`)
		)
	);
/** Dollars, like `0.5`; 0 turns the limit off. */
const usd = (fallback: number) =>
	v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.regex(/^\d+(\.\d+)?$/, 'must be an amount in dollars, like 0.50'),
			v.transform(Number),
			v.maxValue(1_000_000, 'must be at most 1000000')
		),
		String(fallback)
	);
const bool = (fallback: boolean) =>
	v.pipe(
		v.optional(v.string(), String(fallback)),
		v.trim(),
		v.toLowerCase(),
		v.regex(/^(true|false|1|0|yes|no|on|off)$/, 'must be true or false'),
		v.transform((s) => ['true', '1', 'yes', 'on'].includes(s))
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
	ADDRESS_HEADER: optionalString,
	PROTOCOL_HEADER: optionalString,
	TRUSTED_PROXIES: v.pipe(
		v.optional(v.string(), 'loopback'),
		v.transform((s) =>
			s
				.split(',')
				.map((x) => x.trim())
				.filter(Boolean)
		)
	),
	JWT_SECRET_KEY: optionalString,
	ACCESS_TOKEN_TTL_SECONDS: int(900, 30, 86_400),
	REFRESH_TOKEN_TTL_DAYS: int(30, 1, 365),
	REFRESH_REUSE_GRACE_SECONDS: int(10, 0, 120),
	COOKIE_SECURE: v.optional(v.picklist(['auto', 'true', 'false']), 'auto'),
	ADMIN_EMAIL: list,
	ADMIN_SETUP_CODE: optionalString,
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
	TUTOR_EARLY_START: bool(true),
	RATE_LIMIT_ENABLED: bool(true),
	RATE_LIMIT_MAX: optionalInt(1, 100_000),
	RATE_LIMIT_WINDOW: optionalInt(1000, 86_400_000),
	TUTOR_RATE_LIMIT: optionalInt(1, 100_000),
	TUTOR_RATE_WINDOW_SECONDS: optionalInt(1, 86_400),
	API_RATE_LIMIT_READ: int(300, 1, 1_000_000),
	API_RATE_LIMIT_WRITE: int(60, 1, 1_000_000),
	API_RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 86_400),
	WS_RATE_LIMIT_CONNECT: int(60, 1, 1_000_000),
	WS_RATE_LIMIT_SUBSCRIBE: int(120, 1, 1_000_000),
	WS_RATE_LIMIT_UNSUBSCRIBE: int(120, 1, 1_000_000),
	WS_RATE_LIMIT_STOP: int(60, 1, 1_000_000),
	WS_RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 86_400),
	WS_MAX_MESSAGES_PER_SECOND: int(20, 1, 10_000),
	WS_MAX_SOCKETS_PER_USER: int(20, 1, 10_000),
	MOCK_TOKEN_DELAY_MS: int(20, 0, 10_000),
	MOCK_TOKEN_COUNT: int(64, 1, 100_000),
	COHERE_API_KEY: optionalString,
	VOYAGE_API_KEY: optionalString,
	COHERE_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	VOYAGE_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	EMBEDDING_MODEL: optionalString,
	BUDGET_USER_DAILY_USD: usd(0.5),
	BUDGET_GLOBAL_DAILY_USD: usd(20),
	BUDGET_WARN_PERCENT: int(80, 1, 100),
	CACHE_ENABLED: bool(true),
	CACHE_TTL: int(86_400, 60, 90 * 86_400),
	LLM_ROUTING: bool(true),
	LLM_CHEAP_MODEL: optionalString,
	LLM_PROMPT_CACHE: bool(true),
	SMTP_HOST: optionalString,
	SMTP_PORT: int(587, 1, 65535),
	SMTP_USER: optionalString,
	SMTP_PASSWORD: optionalString,
	SMTP_SECURE: bool(false),
	FROM_EMAIL: optionalString,
	ALERT_EMAIL: list,
	ALERT_WEBHOOK_URL: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
	LOG_LEVEL: v.optional(
		v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
		'info'
	),
	SHUTDOWN_GRACE_SECONDS: int(10, 0, 600),
	METRICS_TOKEN: optionalString,
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
	/** A fixed first-administrator setup code (admin/setup.ts); otherwise one is made and logged. */
	adminSetupCode: string | undefined;
	loginRateLimit: { limit: number; windowSeconds: number };
	registerRateLimit: { limit: number; windowSeconds: number };
	/**
	 * Request limits with counters in the database (shared by every replica). With `enabled` false
	 * none of these apply, and the tutor limit is lifted too; login and register limits always do.
	 */
	rateLimits: {
		enabled: boolean;
		/** GET, HEAD and OPTIONS on /api/**, per user (per client address when signed out). */
		apiRead: { limit: number; windowSeconds: number };
		/** Every other method on /api/** and every form action. */
		apiWrite: { limit: number; windowSeconds: number };
		/** WebSocket messages per user; send, continue and regenerate use `tutor.rateLimit`. */
		ws: Record<
			'connect' | 'subscribe' | 'unsubscribe' | 'stop',
			{ limit: number; windowSeconds: number }
		>;
	};
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
	/** AI cost control: the environment's defaults for what admins can change at run time. */
	cost: {
		/** Daily spend per student and for the whole server, in dollars; 0 means no limit. */
		userDailyUsd: number;
		globalDailyUsd: number;
		/** Students are warned (and the operator alerted) from this share of a limit. */
		warnPercent: number;
		cacheEnabled: boolean;
		cacheTtlSeconds: number;
		routingEnabled: boolean;
		/** The cheaper model for simple questions ('' when the provider has none). */
		cheapModel: string;
		/** Anthropic cache breakpoints (OpenAI and Google cache stable prefixes on their own). */
		promptCache: boolean;
	};
	/** Where budget alerts go. */
	alerts: {
		smtp: {
			host: string;
			port: number;
			secure: boolean;
			user?: string;
			password?: string;
			from: string;
		} | null;
		emails: string[];
		webhookUrl?: string;
	};
	tutor: {
		/** A generation's claim on its conversation; renewed while it runs, taken over when it lapses. */
		leaseSeconds: number;
		/** How often streamed text is written to the database (and seen by other replicas). */
		flushMs: number;
		/** Tutor requests (send, continue, regenerate) per user per window, across replicas. */
		rateLimit: { limit: number; windowSeconds: number };
		/** WebSocket frames per second per user (all their sockets on a replica) before frames are refused. */
		maxMessagesPerSecond: number;
		/** Open WebSockets per user on each replica; opening them is also limited by `rateLimits.ws.connect`. */
		maxSocketsPerUser: number;
		/**
		 * Start the provider call for a question from what this replica knows of the conversation,
		 * beside the database work, instead of after it (cancelled if the guess was wrong).
		 */
		earlyStart: boolean;
	};
	logLevel: string;
	shutdownGraceSeconds: number;
	wsMaxPayloadBytes: number;
	/** Bearer token for /metrics; without one, only private-network peers not behind the proxy. */
	metricsToken: string | undefined;
	/** The reverse proxy's headers, believed only from TRUSTED_PROXIES (see http/proxy.ts). */
	proxy: ProxySettings;
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

/** The cheaper model routing picks for simple questions; LLM_CHEAP_MODEL overrides it. */
export const CHEAP_MODELS: Record<LlmProvider, string> = {
	anthropic: 'claude-haiku-4-5',
	openai: 'gpt-4.1-nano',
	google: 'gemini-2.5-flash-lite',
	'openai-compatible': '',
	mock: 'mock-tutor-mini',
	offline: ''
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

/** Counts never reach this, and it still fits the counter's integer column in comparisons. */
export const UNLIMITED = 2_147_483_647;

/**
 * The tutor's limit: RATE_LIMIT_MAX per RATE_LIMIT_WINDOW (milliseconds, rounded up to whole
 * seconds), else the older TUTOR_RATE_LIMIT and TUTOR_RATE_WINDOW_SECONDS, else 30 per minute.
 * RATE_LIMIT_ENABLED=false lifts it: the engine checks it inside its own statement, so the limit is
 * set out of reach rather than skipped.
 */
function tutorRateLimit(env: v.InferOutput<typeof EnvSchema>, warnings: string[]) {
	for (const [name, alias] of [
		['RATE_LIMIT_MAX', 'TUTOR_RATE_LIMIT'],
		['RATE_LIMIT_WINDOW', 'TUTOR_RATE_WINDOW_SECONDS']
	] as const)
		if (env[name] !== undefined && env[alias] !== undefined)
			warnings.push(`${name} and ${alias} are both set; using ${name}`);
	const windowMs =
		env.RATE_LIMIT_WINDOW ??
		(env.TUTOR_RATE_WINDOW_SECONDS !== undefined ? env.TUTOR_RATE_WINDOW_SECONDS * 1000 : 60_000);
	return {
		limit: env.RATE_LIMIT_ENABLED ? (env.RATE_LIMIT_MAX ?? env.TUTOR_RATE_LIMIT ?? 30) : UNLIMITED,
		windowSeconds: Math.ceil(windowMs / 1000)
	};
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

	if (env.METRICS_TOKEN && (env.METRICS_TOKEN.length < 16 || isPlaceholder(env.METRICS_TOKEN)))
		problems.push('METRICS_TOKEN is too guessable; generate one with `openssl rand -hex 32`');

	if (
		env.ADMIN_SETUP_CODE &&
		(env.ADMIN_SETUP_CODE.length < 16 || isPlaceholder(env.ADMIN_SETUP_CODE))
	)
		problems.push('ADMIN_SETUP_CODE is too guessable; use at least 16 random characters');
	try {
		trustList(env.TRUSTED_PROXIES);
	} catch (error) {
		problems.push(`TRUSTED_PROXIES: ${(error as Error).message}`);
	}

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
		adminSetupCode: env.ADMIN_SETUP_CODE,
		loginRateLimit: { limit: env.LOGIN_RATE_LIMIT, windowSeconds: env.LOGIN_RATE_WINDOW_SECONDS },
		registerRateLimit: {
			limit: env.REGISTER_RATE_LIMIT,
			windowSeconds: env.REGISTER_RATE_WINDOW_SECONDS
		},
		rateLimits: {
			enabled: env.RATE_LIMIT_ENABLED,
			apiRead: { limit: env.API_RATE_LIMIT_READ, windowSeconds: env.API_RATE_LIMIT_WINDOW_SECONDS },
			apiWrite: {
				limit: env.API_RATE_LIMIT_WRITE,
				windowSeconds: env.API_RATE_LIMIT_WINDOW_SECONDS
			},
			ws: {
				connect: {
					limit: env.WS_RATE_LIMIT_CONNECT,
					windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
				},
				subscribe: {
					limit: env.WS_RATE_LIMIT_SUBSCRIBE,
					windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
				},
				unsubscribe: {
					limit: env.WS_RATE_LIMIT_UNSUBSCRIBE,
					windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS
				},
				stop: { limit: env.WS_RATE_LIMIT_STOP, windowSeconds: env.WS_RATE_LIMIT_WINDOW_SECONDS }
			}
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
		cost: {
			userDailyUsd: env.BUDGET_USER_DAILY_USD,
			globalDailyUsd: env.BUDGET_GLOBAL_DAILY_USD,
			warnPercent: env.BUDGET_WARN_PERCENT,
			cacheEnabled: env.CACHE_ENABLED,
			cacheTtlSeconds: env.CACHE_TTL,
			routingEnabled: env.LLM_ROUTING,
			cheapModel: env.LLM_CHEAP_MODEL ?? CHEAP_MODELS[provider],
			promptCache: env.LLM_PROMPT_CACHE
		},
		alerts: {
			smtp: env.SMTP_HOST
				? {
						host: env.SMTP_HOST,
						port: env.SMTP_PORT,
						secure: env.SMTP_SECURE,
						user: env.SMTP_USER,
						password: env.SMTP_PASSWORD,
						from: env.FROM_EMAIL ?? `AI Coding Tutor <${env.SMTP_USER ?? 'noreply@localhost'}>`
					}
				: null,
			emails: (env.ALERT_EMAIL.length ? env.ALERT_EMAIL : env.ADMIN_EMAIL).map((e) =>
				e.toLowerCase()
			),
			webhookUrl: env.ALERT_WEBHOOK_URL
		},
		tutor: {
			leaseSeconds: env.TUTOR_LEASE_SECONDS,
			flushMs: env.TUTOR_FLUSH_MS,
			rateLimit: tutorRateLimit(env, warnings),
			maxMessagesPerSecond: env.WS_MAX_MESSAGES_PER_SECOND,
			maxSocketsPerUser: env.WS_MAX_SOCKETS_PER_USER,
			earlyStart: env.TUTOR_EARLY_START
		},
		logLevel: env.LOG_LEVEL,
		shutdownGraceSeconds: env.SHUTDOWN_GRACE_SECONDS,
		wsMaxPayloadBytes: env.WS_MAX_PAYLOAD_BYTES,
		metricsToken: env.METRICS_TOKEN,
		proxy: {
			addressHeader: env.ADDRESS_HEADER?.toLowerCase() || undefined,
			protocolHeader: env.PROTOCOL_HEADER?.toLowerCase() || undefined,
			trusted: env.TRUSTED_PROXIES
		},
		warnings
	};
}
