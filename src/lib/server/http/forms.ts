import type { RequestEvent } from '@sveltejs/kit';
import type { Client, Deps } from '#lib/server/auth/accounts.ts';
import { clientOf } from './client';

/** What the account actions need from a request: the services and who is asking. */
export function actionContext(event: RequestEvent): { deps: Deps; client: Client } {
	const { config, database } = event.locals.services;
	return { deps: { db: database.db, config }, client: clientOf(event) };
}

export type FormBody =
	{ ok: true; data: FormData } | { ok: false; status: 400 | 413; message: string };

/** Reads the form body; a body that is not a form, or is too large, is the client's mistake. */
export async function readForm(request: Request): Promise<FormBody> {
	try {
		const data = await request.formData();
		for (const value of data.values())
			if (typeof value === 'string' && value.includes('\0'))
				return {
					ok: false,
					status: 400,
					message: 'The form holds a character that is not allowed.'
				};
		return { ok: true, data };
	} catch (error) {
		if ((error as { status?: number }).status === 413)
			return { ok: false, status: 413, message: 'That form is far larger than it should be.' };
		return { ok: false, status: 400, message: 'The form could not be read. Please try again.' };
	}
}

/**
 * Where links in mails point: ORIGIN, or on a laptop without it the address this request came to.
 * (Production sets ORIGIN, so a forged Host header cannot redirect a reset link.)
 */
export function linkBase(event: RequestEvent): string {
	return event.locals.services.config.origin ?? event.url.origin;
}

/** Only same-site relative paths are followed after login, never another origin. */
export function safeNext(value: string | null, fallback = '/dashboard'): string {
	// Browsers drop tabs and newlines from URLs ("/\t/evil.example" is "//evil.example"), and a
	// control character cannot go into a Location header at all.
	if (
		!value ||
		!value.startsWith('/') ||
		value.startsWith('//') ||
		value.startsWith('/\\') ||
		[...value].some((ch) => ch < ' ' || ch === '\u007f')
	)
		return fallback;
	return value;
}
