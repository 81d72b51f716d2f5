import { eq } from 'drizzle-orm';
import { ssoMessage } from '#lib/auth/sso-messages.ts';
import * as identities from '#lib/server/auth/identities.ts';
import { users } from '#lib/server/db/schema.ts';
import type { Services } from '#lib/server/services.ts';

const NOTICES = new Set(['linked', 'reauthenticated']);

/** The account page's single sign-on part: providers, linked identities, the last round trip's outcome. */
export async function signInMethods({ config, database }: Services, userId: string, url: URL) {
	const db = database.db;
	const [linked, [me]] = await Promise.all([
		identities.list(db, userId),
		db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId))
	]);
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
		hasPassword: Boolean(me?.passwordHash),
		notice: message && NOTICES.has(code!) ? message : null,
		error: message && !NOTICES.has(code!) ? message : null
	};
}
