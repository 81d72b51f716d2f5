import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import * as packs from '#lib/server/admin/packs.ts';
import * as audit from '#lib/server/audit.ts';
import type { RequestHandler } from './$types';

const Pack = v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/), v.maxLength(80)));

/** The whole course (or `?pack=slug`, one pack's modules) as a content pack zip. */
export const GET: RequestHandler = async (event) => {
	const parsed = v.safeParse(Pack, event.url.searchParams.get('pack') ?? undefined);
	if (!parsed.success) error(400, 'That pack name is not valid.');
	const db = event.locals.services.database.db;
	const zip = await packs.exportZip(db, { pack: parsed.output });
	if (parsed.output && zip.modules === 0) error(404, 'No modules come from that pack.');
	await audit.recordAction(db, event, 'content.pack.export', null, {
		pack: parsed.output ?? null,
		modules: zip.modules
	});
	return new Response(zip.bytes, {
		headers: {
			'content-type': 'application/zip',
			'content-disposition': `attachment; filename="${zip.name}"`,
			'content-length': String(zip.bytes.length)
		}
	});
};
