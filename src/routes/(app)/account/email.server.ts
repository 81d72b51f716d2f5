/**
 * The account page's email section: whether the address is confirmed, and sending a new link.
 */
import { error, fail, type RequestEvent } from '@sveltejs/kit';
import * as recovery from '#lib/server/auth/recovery.ts';
import { actionContext, linkBase } from '#lib/server/http/forms.ts';

export async function emailStatus(event: Pick<RequestEvent, 'locals'>) {
	const { config, database } = event.locals.services;
	const account = await recovery.accountEmail(database.db, event.locals.user!.id);
	return { verified: Boolean(account?.emailVerifiedAt), canSend: Boolean(config.smtp) };
}

export async function sendVerificationAction(event: RequestEvent) {
	const { deps } = actionContext(event);
	const account = await recovery.accountEmail(deps.db, event.locals.user!.id);
	if (!account) error(401, 'Your session has ended. Log in again.');
	const result = await recovery.sendVerification(deps, account, linkBase(event));
	if (!result.ok) {
		if (result.retryAfterSeconds)
			event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
		return fail(result.status, { action: 'sendVerification', message: result.message });
	}
	return { action: 'sendVerification', success: `We sent a link to ${account.email}.` };
}
