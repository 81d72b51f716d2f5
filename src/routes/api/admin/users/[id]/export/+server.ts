import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import * as users from '#lib/server/admin/users.ts';
import * as audit from '#lib/server/audit.ts';
import type { RequestHandler } from './$types';

/** Everything stored about one user, as a JSON download (the password hash never leaves). */
export const GET: RequestHandler = async (event) => {
	const id = v.safeParse(v.pipe(v.string(), v.uuid()), event.params.id);
	if (!id.success) error(404, 'No such account.');
	const db = event.locals.services.database.db;
	const download = await users.exportStream(db, id.output);
	if (!download) error(404, 'No such account.');
	const { email } = download.profile;
	await audit.recordAction(db, event, 'user.export', id.output, { email });
	const name = email.replace(/[^a-z0-9._-]+/gi, '_');
	return new Response(download.body, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="user-${name}.json"`,
			'cache-control': 'no-store'
		}
	});
};
