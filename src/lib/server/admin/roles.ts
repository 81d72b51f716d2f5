import type { Config } from '#lib/server/config.ts';

/** Accounts listed in ADMIN_EMAIL are administrators whatever their stored role. */
export function isAdminEmail(config: Config, email: string) {
	return config.adminEmails.includes(email.toLowerCase());
}
