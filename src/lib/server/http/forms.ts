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

/** Reads the form body; a body that is not a form is the client's mistake, not ours. */
export async function readForm(request: Request): Promise<FormData | null> {
	try {
		return await request.formData();
	} catch {
		return null;
	}
}

/** Only same-site relative paths are followed after login, never another origin. */
export function safeNext(value: string | null, fallback = '/dashboard'): string {
	if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\'))
		return fallback;
	return value;
}
