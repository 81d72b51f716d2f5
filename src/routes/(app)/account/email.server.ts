/**
 * The account page's email section: whether the address is confirmed, and sending a new link.
 */
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as recovery from '#lib/server/auth/recovery.ts';
import { actionContext, linkBase } from '#lib/server/http/forms.ts';

export async function emailStatus(event: Pick<RequestEvent, 'locals'>) {
	const { config, database } = event.locals.services;
	return {
		verified: await recovery.emailVerified(database.db, event.locals.user!.id),
		canSend: Boolean(config.smtp)
	};
}

export async function sendVerificationAction(event: RequestEvent) {
	const user = event.locals.user!;
	const { deps } = actionContext(event);
	const verified = await recovery.emailVerified(deps.db, user.id);
	const result = await recovery.sendVerification(
		deps,
		{ id: user.id, email: user.email, emailVerifiedAt: verified ? new Date() : null },
		linkBase(event)
	);
	if (!result.ok) {
		if (result.retryAfterSeconds)
			event.setHeaders({ 'retry-after': String(result.retryAfterSeconds) });
		return fail(result.status, { action: 'sendVerification', message: result.message });
	}
	return { action: 'sendVerification', success: `We sent a link to ${user.email}.` };
}
