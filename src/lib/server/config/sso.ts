/**
 * Single sign-on providers from the environment: presets for Google, Microsoft Entra ID and GitHub,
 * and any number of OpenID Connect providers named in OIDC_PROVIDERS, each with
 * OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET and optional _LABEL and _TRUST_EMAIL.
 *
 * @example
 * const sso = ssoSettings(process.env, problems); // [{ id: 'google', name: 'Google', ... }]
 */
import * as v from 'valibot';
import type { SsoProvider } from './types';

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const PRESETS = new Set(['google', 'microsoft', 'github']);
const Url = v.pipe(v.string(), v.trim(), v.url());
const TRUE = new Set(['1', 'true', 'yes', 'on']);

export function ssoSettings(
	source: Record<string, string | undefined>,
	problems: string[]
): SsoProvider[] {
	const get = (key: string) => source[key]?.trim() || undefined;
	const providers: SsoProvider[] = [];
	function add(
		id: string,
		prefix: string,
		rest: Omit<SsoProvider, 'id' | 'clientId' | 'clientSecret'>
	) {
		const clientId = get(`${prefix}_CLIENT_ID`);
		const clientSecret = get(`${prefix}_CLIENT_SECRET`);
		if (!clientId && !clientSecret) return;
		if (!clientId || !clientSecret) {
			problems.push(`${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET must be set together`);
			return;
		}
		if (!v.is(Url, rest.issuer)) {
			problems.push(`${prefix}: the issuer "${rest.issuer}" is not a URL`);
			return;
		}
		providers.push({ id, clientId, clientSecret, ...rest });
	}

	add('google', 'GOOGLE', {
		name: 'Google',
		kind: 'oidc',
		issuer: 'https://accounts.google.com',
		trustEmail: false
	});
	const tenant = get('MICROSOFT_TENANT_ID');
	if (get('MICROSOFT_CLIENT_ID') && !tenant)
		problems.push(
			'MICROSOFT_TENANT_ID is required with MICROSOFT_CLIENT_ID (your directory id; multi-tenant "common" cannot be verified)'
		);
	else
		add('microsoft', 'MICROSOFT', {
			name: 'Microsoft',
			kind: 'oidc',
			issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
			// The school's own tenant issues its addresses; Entra sends no email_verified claim.
			trustEmail: true
		});
	add('github', 'GITHUB', {
		name: 'GitHub',
		kind: 'github',
		issuer: get('GITHUB_URL') ?? 'https://github.com',
		trustEmail: false
	});
	for (const raw of (get('OIDC_PROVIDERS') ?? '').split(',')) {
		const id = raw.trim().toLowerCase();
		if (!id) continue;
		if (!NAME.test(id) || PRESETS.has(id) || providers.some((p) => p.id === id)) {
			problems.push(
				`OIDC_PROVIDERS: "${raw.trim()}" must be a unique lower-case name (a-z, 0-9, -)`
			);
			continue;
		}
		const prefix = `OIDC_${id.toUpperCase().replaceAll('-', '_')}`;
		const issuer = get(`${prefix}_ISSUER`);
		if (!issuer) {
			problems.push(`${prefix}_ISSUER is required for the provider "${id}"`);
			continue;
		}
		if (!get(`${prefix}_CLIENT_ID`)) {
			problems.push(`${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET are required`);
			continue;
		}
		add(id, prefix, {
			name: get(`${prefix}_LABEL`) ?? id.charAt(0).toUpperCase() + id.slice(1),
			kind: 'oidc',
			issuer,
			trustEmail: TRUE.has((get(`${prefix}_TRUST_EMAIL`) ?? '').toLowerCase())
		});
	}
	return providers;
}
