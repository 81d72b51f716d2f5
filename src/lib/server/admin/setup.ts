/**
 * The first administrator. Registering an ADMIN_EMAIL address is not enough (anyone could register
 * it first): until an administrator exists, start-up prints a one-time setup code in the server
 * log, and the ADMIN_EMAIL account that enters it at /admin-setup becomes administrator.
 * ADMIN_SETUP_CODE fixes the code for scripted deployments.
 *
 * @example
 * const code = await setup.prepare(db, config); // logged when not null
 * const outcome = await setup.claim(deps, user, form.code, client);
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '#lib/server/config.ts';
import type { Db } from '#lib/server/db/index.ts';
import { appSettings, users } from '#lib/server/db/schema.ts';
import * as audit from '#lib/server/audit.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import { isAdminEmail } from './roles';

const KEY = 'admin_setup_code';

/** Whether any account is an administrator yet. */
async function hasAdmin(db: Db): Promise<boolean> {
	const [row] = await db
		.select({ id: users.id })
		.from(users)
		.where(eq(users.role, 'admin'))
		.limit(1);
	return Boolean(row);
}

/**
 * The setup code while it is needed (ADMIN_EMAIL set, no administrator yet), else null. Every
 * replica prints the same code: the first to start stores it.
 */
export async function prepare(db: Db, config: Config): Promise<string | null> {
	if (!config.adminEmails.length || (await hasAdmin(db))) return null;
	const code = config.adminSetupCode ?? randomBytes(15).toString('base64url');
	const insert = db.insert(appSettings).values({ key: KEY, value: code });
	await (config.adminSetupCode
		? insert.onConflictDoUpdate({ target: appSettings.key, set: { value: code } })
		: insert.onConflictDoNothing());
	const [row] = await db.select().from(appSettings).where(eq(appSettings.key, KEY));
	return typeof row?.value === 'string' ? row.value : null;
}

/** Whether the user may claim administrator with the setup code now. */
export async function claimable(db: Db, config: Config, user: { email: string; role: string }) {
	if (user.role === 'admin' || !isAdminEmail(config, user.email)) return false;
	const [row] = await db.select().from(appSettings).where(eq(appSettings.key, KEY));
	return Boolean(row);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export type ClaimOutcome = { ok: true } | { ok: false; status: 400 | 403 | 429; message: string };

/** Makes the user administrator if the code matches; the code is spent in the same statement. */
export async function claim(
	{ db, config }: { db: Db; config: Config },
	user: { id: string; email: string; role: string },
	code: string,
	client: { ip?: string | null }
): Promise<ClaimOutcome> {
	if (!(await claimable(db, config, user)))
		return {
			ok: false,
			status: 403,
			message:
				'Administrator setup is only for an ADMIN_EMAIL account before any administrator exists.'
		};
	const r = await rateLimit.hit(db, `admin-setup:user:${user.id}`, config.loginRateLimit);
	if (!r.allowed)
		return {
			ok: false,
			status: 429,
			message: `Too many attempts. Try again in ${r.retryAfterSeconds} s.`
		};
	const [row] = await db.select().from(appSettings).where(eq(appSettings.key, KEY));
	const stored = typeof row?.value === 'string' ? row.value : '';
	if (!stored || !timingSafeEqual(digest(stored), digest(code.trim())))
		return {
			ok: false,
			status: 400,
			message: 'That setup code is not right. Copy it from the server log.'
		};
	const promoted = await db.transaction(async (tx) => {
		const spent = await tx
			.delete(appSettings)
			.where(
				and(eq(appSettings.key, KEY), sql`${appSettings.value} = ${JSON.stringify(stored)}::jsonb`)
			)
			.returning({ key: appSettings.key });
		if (!spent.length) return false;
		await tx
			.update(users)
			.set({ role: 'admin', updatedAt: sql`now()` })
			.where(eq(users.id, user.id));
		return true;
	});
	if (!promoted) return { ok: false, status: 400, message: 'That setup code was just used.' };
	await audit.record(db, { actorId: user.id, action: 'account.admin_setup', ip: client.ip });
	return { ok: true };
}
