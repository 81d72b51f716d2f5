import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, UNLIMITED } from './config.ts';

const good = {
	NODE_ENV: 'production',
	JWT_SECRET_KEY: 'k'.repeat(20) + '-a-long-random-production-key',
	DATABASE_URL: 'postgres://tutor@db:5432/tutor',
	ANTHROPIC_API_KEY: 'sk-ant-test',
	ORIGIN: 'https://tutor.example.com'
};

function problems(env: Record<string, string | undefined>): string[] {
	try {
		loadConfig(env);
	} catch (error) {
		if (error instanceof ConfigError) return error.problems;
		throw error;
	}
	return [];
}

describe('production configuration fails fast', () => {
	it('accepts a complete production environment', () => {
		const config = loadConfig(good);
		expect(config.production).toBe(true);
		expect(config.llm.provider).toBe('anthropic');
		expect(config.host).toBe('0.0.0.0');
		expect(config.allowedOrigins).toEqual(['https://tutor.example.com']);
	});

	it('names JWT_SECRET_KEY when it is missing, short or a placeholder', () => {
		expect(problems({ ...good, JWT_SECRET_KEY: undefined }).join()).toMatch(
			/JWT_SECRET_KEY is required/
		);
		expect(problems({ ...good, JWT_SECRET_KEY: 'short-secret' }).join()).toMatch(
			/JWT_SECRET_KEY is too short \(12 characters/
		);
		expect(
			problems({ ...good, JWT_SECRET_KEY: 'change-me-change-me-change-me-change-me' }).join()
		).toMatch(/JWT_SECRET_KEY is a placeholder/);
	});

	it('requires DATABASE_URL', () => {
		expect(problems({ ...good, DATABASE_URL: undefined }).join()).toMatch(
			/DATABASE_URL is required/
		);
	});

	it('requires an LLM key unless the offline tutor is chosen explicitly', () => {
		expect(problems({ ...good, ANTHROPIC_API_KEY: undefined }).join()).toMatch(/no LLM key is set/);
		expect(problems({ ...good, ANTHROPIC_API_KEY: undefined, LLM_PROVIDER: 'offline' })).toEqual(
			[]
		);
		expect(problems({ ...good, LLM_PROVIDER: 'openai' }).join()).toMatch(
			/OPENAI_API_KEY is not set/
		);
	});

	it('reports every problem at once', () => {
		expect(problems({ NODE_ENV: 'production' }).length).toBe(3);
	});

	it('rejects malformed numbers and enums with the variable name', () => {
		expect(problems({ PORT: 'eighty' }).join()).toMatch(/PORT must be a whole number/);
		expect(problems({ PORT: '70000' }).join()).toMatch(/PORT must be at most 65535/);
		expect(problems({ LLM_PROVIDER: 'skynet' }).join()).toMatch(/LLM_PROVIDER must be one of/);
		expect(problems({ CORS_ORIGINS: 'not a url' }).join()).toMatch(/CORS_ORIGINS/);
	});
});

describe('development defaults', () => {
	it('starts with no settings: offline tutor, PGlite, generated secret kept in the data folder', () => {
		const dataDir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
		const config = loadConfig({ DATA_DIR: dataDir });
		expect(config.production).toBe(false);
		expect(config.databaseUrl).toBeUndefined();
		expect(config.llm.provider).toBe('offline');
		expect(config.port).toBe(3000);
		expect(config.host).toBe('127.0.0.1');
		const stored = readFileSync(path.join(dataDir, 'jwt-secret'), 'utf8').trim();
		expect(stored.length).toBeGreaterThanOrEqual(32);
		expect(new TextDecoder().decode(config.jwtSecret)).toBe(stored);
		// The same secret on the next start, so sessions survive a restart.
		expect(new TextDecoder().decode(loadConfig({ DATA_DIR: dataDir }).jwtSecret)).toBe(stored);
		expect(config.allowedOrigins).toContain('http://localhost:3000');
		expect(config.warnings.join()).toMatch(/no embedding key/);
	});

	it('picks the provider whose key is present and warns about a provider without a key', () => {
		const dataDir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
		expect(loadConfig({ DATA_DIR: dataDir, OPENAI_API_KEY: 'sk' }).llm.provider).toBe('openai');
		const config = loadConfig({ DATA_DIR: dataDir, LLM_PROVIDER: 'google' });
		expect(config.warnings.join()).toMatch(/GOOGLE_API_KEY is not set/);
	});

	it('reads ADMIN_EMAIL and CORS_ORIGINS as comma-separated lists', () => {
		const dataDir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
		const config = loadConfig({
			DATA_DIR: dataDir,
			ADMIN_EMAIL: ' Boss@Example.com, ops@example.com ',
			CORS_ORIGINS: 'https://a.example.com/, https://b.example.com'
		});
		expect(config.adminEmails).toEqual(['boss@example.com', 'ops@example.com']);
		expect(config.allowedOrigins).toEqual(['https://a.example.com', 'https://b.example.com']);
	});
});

describe('rate limit settings', () => {
	const base = { ...good, NODE_ENV: 'development' };

	it('defaults: tutor 30 a minute, API 300 reads and 60 writes, generous WebSocket limits', () => {
		const config = loadConfig(base);
		expect(config.tutor.rateLimit).toEqual({ limit: 30, windowSeconds: 60 });
		expect(config.rateLimits).toEqual({
			enabled: true,
			apiRead: { limit: 300, windowSeconds: 60 },
			apiWrite: { limit: 60, windowSeconds: 60 },
			ws: {
				connect: { limit: 60, windowSeconds: 60 },
				subscribe: { limit: 120, windowSeconds: 60 },
				unsubscribe: { limit: 120, windowSeconds: 60 },
				stop: { limit: 60, windowSeconds: 60 }
			}
		});
	});

	it('takes the tutor limit from RATE_LIMIT_MAX and RATE_LIMIT_WINDOW (ms), else the old names', () => {
		const current = loadConfig({ ...base, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '1500' });
		expect(current.tutor.rateLimit).toEqual({ limit: 5, windowSeconds: 2 });
		const old = loadConfig({ ...base, TUTOR_RATE_LIMIT: '7', TUTOR_RATE_WINDOW_SECONDS: '90' });
		expect(old.tutor.rateLimit).toEqual({ limit: 7, windowSeconds: 90 });
		const both = loadConfig({ ...base, RATE_LIMIT_MAX: '5', TUTOR_RATE_LIMIT: '7' });
		expect(both.tutor.rateLimit.limit).toBe(5);
		expect(both.warnings.join()).toMatch(/RATE_LIMIT_MAX and TUTOR_RATE_LIMIT are both set/);
		expect(problems({ ...base, RATE_LIMIT_WINDOW: '999' }).join()).toMatch(
			/RATE_LIMIT_WINDOW must be at least 1000/
		);
	});

	it('RATE_LIMIT_ENABLED=false turns the limits off and lifts the tutor limit out of reach', () => {
		const config = loadConfig({ ...base, RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MAX: '5' });
		expect(config.rateLimits.enabled).toBe(false);
		expect(config.tutor.rateLimit.limit).toBe(UNLIMITED);
		expect(config.loginRateLimit.limit).toBe(10);
		expect(problems({ ...base, RATE_LIMIT_ENABLED: 'maybe' }).join()).toMatch(
			/RATE_LIMIT_ENABLED must be true or false/
		);
	});
});

describe('cost control settings', () => {
	const dev = (env: Record<string, string> = {}) =>
		loadConfig({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cfg-')), ...env });

	it('defaults: budgets on, cache, routing to the provider’s cheaper model and prompt caching on', () => {
		const c = dev({ ANTHROPIC_API_KEY: 'sk-ant-x' });
		expect(c.cost).toEqual({
			userDailyUsd: 0.5,
			globalDailyUsd: 20,
			warnPercent: 80,
			cacheEnabled: true,
			cacheTtlSeconds: 86_400,
			routingEnabled: true,
			cheapModel: 'claude-haiku-4-5',
			promptCache: true
		});
		expect(c.alerts).toEqual({ smtp: null, emails: [], webhookUrl: undefined });
		expect(dev({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1' }).cost.cheapModel).toBe('');
	});

	it('reads dollars, switches, mail and webhook settings', () => {
		const c = dev({
			BUDGET_USER_DAILY_USD: '1.25',
			BUDGET_GLOBAL_DAILY_USD: '0',
			CACHE_ENABLED: 'false',
			LLM_ROUTING: 'off',
			LLM_CHEAP_MODEL: 'gpt-4.1-nano',
			SMTP_HOST: 'smtp.example.com',
			SMTP_USER: 'bot@example.com',
			ADMIN_EMAIL: 'Boss@Example.com',
			ALERT_WEBHOOK_URL: 'https://hooks.example.com/x'
		});
		expect(c.cost).toMatchObject({
			userDailyUsd: 1.25,
			globalDailyUsd: 0,
			cacheEnabled: false,
			routingEnabled: false,
			cheapModel: 'gpt-4.1-nano'
		});
		expect(c.alerts.smtp).toMatchObject({ host: 'smtp.example.com', port: 587, secure: false });
		expect(c.alerts.smtp?.from).toContain('bot@example.com');
		expect(c.alerts.emails).toEqual(['boss@example.com']);
		expect(c.alerts.webhookUrl).toBe('https://hooks.example.com/x');
	});

	it('names a malformed amount or switch', () => {
		expect(() => dev({ BUDGET_USER_DAILY_USD: 'five' })).toThrow(/BUDGET_USER_DAILY_USD/);
		expect(() => dev({ CACHE_ENABLED: 'maybe' })).toThrow(/CACHE_ENABLED/);
	});
});

describe('password reset and verification settings', () => {
	it('needs SMTP_HOST to require confirmed addresses', () => {
		expect(problems({ ...good, REQUIRE_EMAIL_VERIFICATION: 'true' }).join()).toMatch(
			/REQUIRE_EMAIL_VERIFICATION needs SMTP_HOST/
		);
		const config = loadConfig({
			...good,
			REQUIRE_EMAIL_VERIFICATION: 'true',
			SMTP_HOST: 'smtp.example.com',
			PASSWORD_RESET_TTL_MINUTES: '30'
		});
		expect(config.accounts).toEqual({
			requireEmailVerification: true,
			resetTtlMinutes: 30,
			verifyTtlHours: 48,
			emailRateLimit: { limit: 5, windowSeconds: 3600 }
		});
	});

	it('warns when mailed links would name whatever host a request claims', () => {
		const withoutOrigin = loadConfig({ ...good, ORIGIN: undefined, SMTP_HOST: 'smtp.example.com' });
		expect(withoutOrigin.warnings.join()).toMatch(/SMTP_HOST is set without ORIGIN/);
		const withOrigin = loadConfig({ ...good, SMTP_HOST: 'smtp.example.com' });
		expect(withOrigin.warnings.join()).not.toMatch(/without ORIGIN/);
	});
});
