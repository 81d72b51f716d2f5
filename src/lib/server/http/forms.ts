import type { RequestEvent } from '@sveltejs/kit';
import { runtime } from '../runtime';
import type { Client, Deps } from '../auth/accounts';

/** Who is asking: the client address (as adapter-node resolves it) and the user agent. */
export function clientOf(event: RequestEvent): Client {
	let ip: string | null;
	try {
		ip = event.getClientAddress();
	} catch {
		ip = null;
	}
	return { ip, userAgent: event.request.headers.get('user-agent') };
}

/** What the account actions need from a request: the services and who is asking. */
export function actionContext(event: RequestEvent): { deps: Deps; client: Client } {
	const { config, database } = runtime();
	return { deps: { db: database.db, config }, client: clientOf(event) };
}

export type FormBody =
	{ ok: true; data: FormData } | { ok: false; status: 400 | 413; message: string };

/** Reads the form body; a body that is not a form, or is too large, is the client's mistake. */
export async function readForm(request: Request): Promise<FormBody> {
	try {
		return { ok: true, data: await request.formData() };
	} catch (error) {
		if ((error as { status?: number }).status === 413)
			return { ok: false, status: 413, message: 'That form is far larger than it should be.' };
		return { ok: false, status: 400, message: 'The form could not be read. Please try again.' };
	}
}

/** Only same-site relative paths are followed after login, never another origin. */
export function safeNext(value: string | null, fallback = '/dashboard'): string {
	if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\'))
		return fallback;
	return value;
}
