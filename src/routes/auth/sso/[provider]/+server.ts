import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import * as sso from '#lib/server/auth/sso.ts';
import { saveFlow } from '#lib/server/auth/sso-cookie.ts';
import { safeNext } from '#lib/server/http/forms.ts';
import { logger } from '#lib/server/log.ts';
import { backWith, providerFor, tooMany } from './provider';
import type { RequestHandler } from './$types';

const Intent = v.optional(v.picklist(['signin', 'link', 'reauth']), 'signin');

/** Starts a sign-in (or, signed in, a link or a re-authentication) with the provider. */
export const GET: RequestHandler = async (event) => {
	const { params, url, locals, cookies } = event;
	const { config } = locals.services;
	const provider = providerFor(config, params.provider);
	const refused = await tooMany(event);
	if (refused) return refused;
	const parsed = v.safeParse(Intent, url.searchParams.get('intent') ?? undefined);
	if (!parsed.success) return Response.json({ message: 'Unknown intent.' }, { status: 400 });
	const intent = parsed.output;
	if (intent !== 'signin' && !locals.user)
		redirect(303, `/login?next=${encodeURIComponent('/account')}`);
	const fallback = intent === 'signin' ? '/dashboard' : '/account';
	const redirectUri = `${config.origin ?? url.origin}/auth/sso/${provider.id}/callback`;
	try {
		const { url: target, flow } = await sso.begin(provider, redirectUri, {
			intent,
			next: safeNext(url.searchParams.get('next'), fallback),
			userId: intent === 'signin' ? undefined : locals.user!.id
		});
		await saveFlow(cookies, config, url, flow);
		return new Response(null, { status: 303, headers: { location: target.href } });
	} catch (error) {
		logger().warn({ provider: provider.id, err: (error as Error).message }, 'sso start failed');
		return backWith(intent, 'unavailable', provider.id);
	}
};
