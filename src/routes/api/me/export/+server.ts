import { json } from '@sveltejs/kit';
import * as selfService from '#lib/server/account/self-service.ts';
import { actionContext } from '#lib/server/http/forms.ts';
import type { RequestHandler } from './$types';

/** Everything stored about the signed-in user, as a JSON download. GET only: nothing changes but the audit log. */
export const GET: RequestHandler = async (event) => {
	const { deps, client } = actionContext(event);
	const r = await selfService.exportOwn(deps, event.locals.user!.id, client);
	if (!r.ok) {
		const headers = r.retryAfterSeconds
			? { 'retry-after': String(r.retryAfterSeconds) }
			: undefined;
		return json({ message: r.message }, { status: r.status, headers });
	}
	const day = r.download.exportedAt.slice(0, 10);
	return new Response(r.download.body, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="ai-coding-tutor-data-${day}.json"`,
			'cache-control': 'no-store'
		}
	});
};
