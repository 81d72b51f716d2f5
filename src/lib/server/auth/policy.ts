/**
 * Who may use a password, as the admin sets it: password sign-in on or off for everyone, and email
 * domains that must sign in through single sign-on. ADMIN_EMAIL accounts keep their password either
 * way, so a broken provider can never lock the operator out.
 *
 * @example
 * if (!(await policy.passwordAllowed(db, config, email))) return refuse(policy.PASSWORD_REFUSED);
 */
import { eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { appSettings } from '#lib/server/db/schema.ts';
import { isAdminEmail } from '#lib/server/admin/roles.ts';

const KEY = 'sign_in_policy';
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const PolicySchema = v.object({
	passwordSignIn: v.boolean(),
	ssoDomains: v.pipe(
		v.array(v.pipe(v.string(), v.trim(), v.toLowerCase(), v.regex(DOMAIN, 'is not a domain'))),
		v.maxLength(100, 'At most 100 domains.')
	)
});
export type SignInPolicy = v.InferOutput<typeof PolicySchema>;

export const DEFAULT_POLICY: SignInPolicy = { passwordSignIn: true, ssoDomains: [] };

export const PASSWORD_REFUSED =
	'Passwords are not used for this address. Sign in with your school account instead.';

export async function read(db: Db): Promise<SignInPolicy> {
	const [row] = await db.select().from(appSettings).where(eq(appSettings.key, KEY));
	const parsed = v.safeParse(PolicySchema, row?.value);
	return parsed.success ? parsed.output : DEFAULT_POLICY;
}

/** Saves the policy; refused when it would leave no way to sign in (no provider configured). */
export async function save(
	db: Db,
	config: Config,
	actorId: string,
	policy: SignInPolicy
): Promise<{ ok: true } | { ok: false; message: string }> {
	if (!config.sso.length && (!policy.passwordSignIn || policy.ssoDomains.length))
		return {
			ok: false,
			message: 'Configure a single sign-on provider first: without one nobody could sign in.'
		};
	const value = { ...policy, ssoDomains: [...new Set(policy.ssoDomains)].sort() };
	await db
		.insert(appSettings)
		.values({ key: KEY, value, updatedBy: actorId })
		.onConflictDoUpdate({
			target: appSettings.key,
			set: { value, updatedBy: actorId, updatedAt: sql`now()` }
		});
	return { ok: true };
}

/** Whether this address may sign in, register or reset with a password. */
export async function passwordAllowed(db: Db, config: Config, email: string) {
	if (isAdminEmail(config, email)) return true;
	const policy = await read(db);
	if (!policy.passwordSignIn) return false;
	const domain = email.toLowerCase().split('@').pop() ?? '';
	return !policy.ssoDomains.includes(domain);
}
