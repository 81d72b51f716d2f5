import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { ssoMessage } from '#lib/auth/sso-messages.ts';
import * as identities from '#lib/server/auth/identities.ts';
import { actionContext, readForm } from '#lib/server/http/forms.ts';
import type { Services } from '#lib/server/services.ts';

const NOTICES = new Set(['linked', 'reauthenticated']);

/** The account page's single sign-on part: providers, linked identities, the last round trip's outcome. */
export async function signInMethods({ config, database }: Services, userId: string, url: URL) {
	const db = database.db;
	const linked = await identities.list(db, userId);
	const code = url.searchParams.get('sso');
	const provider = config.sso.find((p) => p.id === url.searchParams.get('provider'));
	const message = provider ? ssoMessage(code, provider.name) : null;
	return {
		providers: config.sso.map(({ id, name }) => ({ id, name })),
		linked: linked.map((l) => ({
			...l,
			createdAt: l.createdAt.toISOString(),
			lastUsedAt: l.lastUsedAt.toISOString()
		})),
		notice: message && NOTICES.has(code!) ? message : null,
		error: message && !NOTICES.has(code!) ? message : null
	};
}

const UnlinkSchema = v.object({
	provider: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,30}$/, 'Choose a provider to unlink.'))
});

/** The `unlinkProvider` form action: refused when it is the account's only way in. */
export async function unlinkProvider(event: RequestEvent) {
	const body = await readForm(event.request);
	if (!body.ok) return fail(body.status, { action: 'unlinkProvider', message: body.message });
	const parsed = v.safeParse(UnlinkSchema, { provider: body.data.get('provider') });
	if (!parsed.success)
		return fail(400, { action: 'unlinkProvider', message: 'Choose a provider to unlink.' });
	const { deps, client } = actionContext(event);
	const userId = event.locals.user!.id;
	const result = await identities.unlink(deps.db, userId, parsed.output.provider, client);
	if (!result.ok) return fail(result.status, { action: 'unlinkProvider', message: result.message });
	return { action: 'unlinkProvider', success: 'Unlinked.' };
}
