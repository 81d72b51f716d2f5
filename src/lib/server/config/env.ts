/**
 * The environment variables the server reads, as one valibot schema with their defaults and limits.
 * Everything else in config/ works from the parsed `Env`, never from `process.env`.
 *
 * @example
 * const env = parseEnv(process.env); // throws ConfigError naming every bad variable
 */
import * as v from 'valibot';
import { ConfigError } from './error';
import { bool, int, list, optionalInt, optionalString, usd } from './fields';

export const PROVIDERS = [
	'anthropic',
	'openai',
	'google',
	'openai-compatible',
	'mock',
	'offline'
] as const;
export type LlmProvider = (typeof PROVIDERS)[number];

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
	REQUIRE_EMAIL_VERIFICATION: bool(false),
	PASSWORD_RESET_TTL_MINUTES: int(60, 5, 1440),
	EMAIL_VERIFICATION_TTL_HOURS: int(48, 1, 720),
	ACCOUNT_EMAIL_RATE_LIMIT: int(5, 1, 1000),
	ACCOUNT_EMAIL_RATE_WINDOW_SECONDS: int(3600, 60, 86_400),
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
	REVIEW_DAILY_LIMIT: int(100, 1, 10_000),
	METRICS_TOKEN: optionalString,
	WS_MAX_PAYLOAD_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
	PYTHON_WORKERS: optionalInt(1, 64),
	PYTHON_CHECK_TIMEOUT_MS: int(5000, 100, 120_000),
	PYTHON_MEMORY_MB: int(256, 64, 2048),
	PYTHON_QUEUE_MAX: int(200, 1, 100_000),
	PYTHON_QUEUE_PER_USER: int(2, 1, 100)
});

export type Env = v.InferOutput<typeof EnvSchema>;

/** Checks the variables against the schema; every bad one is listed in the ConfigError. */
export function parseEnv(source: Record<string, string | undefined>): Env {
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
	return parsed.output;
}
