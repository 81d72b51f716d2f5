/**
 * Every setting the server reads, parsed once from the environment with valibot.
 *
 * Production (`NODE_ENV=production`) fails fast on anything unsafe; development fills in safe
 * defaults (embedded PGlite, offline tutor, a generated secret kept in the data folder) so that
 * `npm start` works with no setup. The pieces live in config/: the schema (env.ts), the `Config`
 * type (types.ts), and the derivations for providers, secrets, limits and origins.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError with every problem listed
 */
import path from 'node:path';
import { trustList } from './http/proxy';
import { parseEnv } from './config/env';
import { ConfigError } from './config/error';
import { rateLimitSettings, tutorRateLimit } from './config/limits';
import { CHEAP_MODELS, chooseProvider, embeddingSettings, llmSettings } from './config/llm';
import { originSettings } from './config/origins';
import { pythonSettings } from './config/python';
import { guessableTokens, signingSecret } from './config/secrets';
import { ssoSettings } from './config/sso';
import type { Config } from './config/types';

export { ConfigError } from './config/error';
export type { LlmProvider } from './config/env';
export type { Config, SsoProvider } from './config/types';
export { CHEAP_MODELS, DEFAULT_MODELS } from './config/llm';
export { UNLIMITED } from './config/limits';

/**
 * Parses the environment. Pass `process.env` (not a copy made by a bundler): `NODE_ENV` is read
 * from the object, so build-time replacement of `process.env.NODE_ENV` cannot change the mode.
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
	const env = parseEnv(source);
	const production = env.NODE_ENV === 'production';
	const problems: string[] = [];
	const warnings: string[] = [];
	const dataDir = path.resolve(env.DATA_DIR);

	const secret = signingSecret(env, production, dataDir, problems, warnings);
	if (production && !env.DATABASE_URL)
		problems.push('DATABASE_URL is required in production (postgres://user:pass@host:5432/db)');
	const provider = chooseProvider(env, production, problems, warnings);
	if (!env.COHERE_API_KEY && !env.VOYAGE_API_KEY)
		warnings.push(
			'no embedding key (COHERE_API_KEY or VOYAGE_API_KEY): retrieval uses full-text search only'
		);
	problems.push(...guessableTokens(env));
	try {
		trustList(env.TRUSTED_PROXIES);
	} catch (error) {
		problems.push(`TRUSTED_PROXIES: ${(error as Error).message}`);
	}

	const sso = ssoSettings(source, problems);
	if (env.REQUIRE_EMAIL_VERIFICATION && !env.SMTP_HOST)
		problems.push('REQUIRE_EMAIL_VERIFICATION needs SMTP_HOST: the links are sent by email');
	if (production && env.SMTP_HOST && !env.ORIGIN)
		warnings.push(
			'SMTP_HOST is set without ORIGIN: password reset and verification links will name the host each request claims; set ORIGIN'
		);
	if (production && sso.length && !env.ORIGIN)
		problems.push('single sign-on needs ORIGIN in production: it is part of the callback URL');

	if (problems.length) throw new ConfigError(problems);
	const smtp = env.SMTP_HOST
		? {
				host: env.SMTP_HOST,
				port: env.SMTP_PORT,
				secure: env.SMTP_SECURE,
				user: env.SMTP_USER,
				password: env.SMTP_PASSWORD,
				from: env.FROM_EMAIL ?? `AI Coding Tutor <${env.SMTP_USER ?? 'noreply@localhost'}>`
			}
		: null;

	const { origin, allowedOrigins } = originSettings(env, production, warnings);

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
		allowedOrigins,
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
		accounts: {
			requireEmailVerification: env.REQUIRE_EMAIL_VERIFICATION,
			resetTtlMinutes: env.PASSWORD_RESET_TTL_MINUTES,
			verifyTtlHours: env.EMAIL_VERIFICATION_TTL_HOURS,
			emailRateLimit: {
				limit: env.ACCOUNT_EMAIL_RATE_LIMIT,
				windowSeconds: env.ACCOUNT_EMAIL_RATE_WINDOW_SECONDS
			}
		},
		sso,
		smtp,
		rateLimits: rateLimitSettings(env),
		llm: llmSettings(env, provider),
		embeddings: embeddingSettings(env),
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
			smtp,
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
		practice: { reviewDailyLimit: env.REVIEW_DAILY_LIMIT },
		wsMaxPayloadBytes: env.WS_MAX_PAYLOAD_BYTES,
		python: pythonSettings(env),
		metricsToken: env.METRICS_TOKEN,
		proxy: {
			addressHeader: env.ADDRESS_HEADER?.toLowerCase() || undefined,
			protocolHeader: env.PROTOCOL_HEADER?.toLowerCase() || undefined,
			trusted: env.TRUSTED_PROXIES
		},
		warnings
	};
}
