import { error } from '@sveltejs/kit';
import type { Config } from '#lib/server/config.ts';

/** The configured provider named in the URL, or 404. */
export function providerFor(config: Config, id: string) {
	const provider = config.sso.find((p) => p.id === id);
	if (!provider) error(404, 'No such sign-in provider.');
	return provider;
}

/** Back to where the flow started, with a message code the page turns into words. */
export function backWith(intent: string, code: string, provider: string) {
	const page = intent === 'signin' ? '/login' : '/account';
	const location = `${page}?sso=${encodeURIComponent(code)}&provider=${encodeURIComponent(provider)}`;
	return new Response(null, { status: 303, headers: { location } });
}
