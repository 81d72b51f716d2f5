import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { ssoSettings } from './sso';

const parse = (env: Record<string, string>) => {
	const problems: string[] = [];
	return { providers: ssoSettings(env, problems), problems };
};

describe('single sign-on settings', () => {
	it('has no provider by default', () => {
		expect(parse({})).toEqual({ providers: [], problems: [] });
	});

	it('reads the presets and generic providers in button order', () => {
		const { providers, problems } = parse({
			GOOGLE_CLIENT_ID: 'g',
			GOOGLE_CLIENT_SECRET: 'gs',
			MICROSOFT_CLIENT_ID: 'm',
			MICROSOFT_CLIENT_SECRET: 'ms',
			MICROSOFT_TENANT_ID: 'contoso-tenant',
			GITHUB_CLIENT_ID: 'h',
			GITHUB_CLIENT_SECRET: 'hs',
			OIDC_PROVIDERS: 'School-ID, keycloak',
			OIDC_SCHOOL_ID_ISSUER: 'https://id.school.edu',
			OIDC_SCHOOL_ID_CLIENT_ID: 's',
			OIDC_SCHOOL_ID_CLIENT_SECRET: 'ss',
			OIDC_SCHOOL_ID_LABEL: 'School account',
			OIDC_SCHOOL_ID_TRUST_EMAIL: 'true',
			OIDC_KEYCLOAK_ISSUER: 'https://kc.example/realms/x',
			OIDC_KEYCLOAK_CLIENT_ID: 'k',
			OIDC_KEYCLOAK_CLIENT_SECRET: 'ks'
		});
		expect(problems).toEqual([]);
		expect(providers.map((p) => [p.id, p.name, p.kind, p.issuer, p.trustEmail])).toEqual([
			['google', 'Google', 'oidc', 'https://accounts.google.com', false],
			[
				'microsoft',
				'Microsoft',
				'oidc',
				'https://login.microsoftonline.com/contoso-tenant/v2.0',
				true
			],
			['github', 'GitHub', 'github', 'https://github.com', false],
			['school-id', 'School account', 'oidc', 'https://id.school.edu', true],
			['keycloak', 'Keycloak', 'oidc', 'https://kc.example/realms/x', false]
		]);
	});

	it('names every incomplete or bad provider', () => {
		const { providers, problems } = parse({
			GOOGLE_CLIENT_ID: 'g',
			MICROSOFT_CLIENT_ID: 'm',
			MICROSOFT_CLIENT_SECRET: 'ms',
			OIDC_PROVIDERS: 'ok,no_underscore,missing,google',
			OIDC_OK_ISSUER: 'not a url',
			OIDC_OK_CLIENT_ID: 'x',
			OIDC_OK_CLIENT_SECRET: 'y'
		});
		expect(providers).toEqual([]);
		expect(problems).toEqual([
			'GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together',
			expect.stringContaining('MICROSOFT_TENANT_ID is required'),
			'OIDC_OK: the issuer "not a url" is not a URL',
			expect.stringContaining('"no_underscore" must be a unique lower-case name'),
			'OIDC_MISSING_ISSUER is required for the provider "missing"',
			expect.stringContaining('"google" must be a unique lower-case name')
		]);
	});

	it('needs ORIGIN in production once a provider is configured', () => {
		const env = {
			NODE_ENV: 'production',
			JWT_SECRET_KEY: 'x'.repeat(20) + 'production-secret-0123456789',
			DATABASE_URL: 'postgres://x@localhost/db',
			LLM_PROVIDER: 'offline',
			GITHUB_CLIENT_ID: 'h',
			GITHUB_CLIENT_SECRET: 'hs'
		};
		expect(() => loadConfig(env)).toThrow(/single sign-on needs ORIGIN/);
		expect(loadConfig({ ...env, ORIGIN: 'https://tutor.example' }).sso).toHaveLength(1);
	});
});
