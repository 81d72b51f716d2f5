import * as audit from '#lib/server/audit.ts';
import { setSessionCookies } from '#lib/server/auth/cookies.ts';
import * as identities from '#lib/server/auth/identities.ts';
import { markReauthenticated } from '#lib/server/auth/reauth.ts';
import * as sso from '#lib/server/auth/sso.ts';
import { takeFlow } from '#lib/server/auth/sso-cookie.ts';
import { clientOf } from '#lib/server/http/client.ts';
import { logger } from '#lib/server/log.ts';
import { backWith, providerFor, tooMany } from '../provider';
import type { RequestHandler } from './$types';

/** The provider's redirect back: checks it against the flow this browser started, then acts on it. */
export const GET: RequestHandler = async (event) => {
	const { params, url, locals, cookies } = event;
	const { config, database } = locals.services;
	const db = database.db;
	const provider = providerFor(config, params.provider);
	const refused = await tooMany(event);
	if (refused) return refused;
	const flow = await takeFlow(cookies, config, url);
	if (!flow || flow.provider !== provider.id) return backWith('signin', 'expired', provider.id);
	if (url.searchParams.has('error')) return backWith(flow.intent, 'cancelled', provider.id);
	const client = clientOf(event);

	let profile: sso.Profile;
	try {
		profile = await sso.complete(provider, url, flow);
	} catch (error) {
		const code = error instanceof sso.SsoError ? error.code : 'failed';
		logger().warn({ provider: provider.id, err: (error as Error).message }, 'sso callback refused');
		await audit.record(db, {
			actorId: locals.user?.id ?? null,
			action: 'sso.refused',
			detail: { provider: provider.id, reason: code },
			ip: client.ip
		});
		return backWith(flow.intent, code, provider.id);
	}

	if (flow.intent === 'signin') {
		const result = await identities.signIn({ db, config }, provider, profile, client);
		if (!result.ok) return backWith('signin', result.code, provider.id);
		setSessionCookies(cookies, config, url, result.session);
		return new Response(null, { status: 303, headers: { location: flow.next } });
	}
	// Link and re-authentication belong to the user who started them, still signed in.
	const user = locals.user;
	if (!user || user.id !== flow.userId) return backWith(flow.intent, 'expired', provider.id);
	if (flow.intent === 'link') {
		const result = await identities.link(db, user.id, provider, profile, client);
		return backWith('link', result.ok ? 'linked' : result.code, provider.id);
	}
	if (!(await identities.owns(db, user.id, provider.id, profile.subject)))
		return backWith('reauth', 'mismatch', provider.id);
	await markReauthenticated(cookies, config, url, user.id);
	return backWith('reauth', 'reauthenticated', provider.id);
};
