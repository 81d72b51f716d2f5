import { json } from '@sveltejs/kit';
import * as packs from '#lib/server/admin/packs.ts';
import * as audit from '#lib/server/audit.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { RequestHandler } from './$types';

/**
 * Imports a content pack uploaded as a zip (form field `pack`). Everything is validated first; on
 * any error nothing changes and the answer lists each error with its file and line.
 */
export const POST: RequestHandler = async (event) => {
	const declared = Number(event.request.headers.get('content-length') ?? 0);
	if (declared > packs.ZIP_MAX_BYTES + 64_000)
		return json(
			{
				message: `The upload is larger than ${packs.ZIP_MAX_BYTES} bytes.`,
				errors: [{ file: '(upload)', message: 'too large' }]
			},
			{ status: 413 }
		);
	const form = await readForm(event.request);
	if (!form.ok) return json({ message: form.message, errors: [] }, { status: form.status });
	const file = form.data.get('pack');
	if (!(file instanceof File) || file.size === 0)
		return json(
			{ message: 'Choose a .zip file or a folder to import.', errors: [] },
			{ status: 400 }
		);
	const db = event.locals.services.database.db;
	const outcome = await packs.importZip(db, new Uint8Array(await file.arrayBuffer()));
	if (!outcome.ok) {
		await audit.recordAction(db, event, 'content.pack.import_rejected', null, {
			file: file.name,
			errors: outcome.errors.length
		});
		return json(
			{
				message: `The pack was not imported: ${outcome.errors.length} problem${outcome.errors.length === 1 ? '' : 's'} found. Nothing was changed.`,
				errors: outcome.errors
			},
			{ status: outcome.status }
		);
	}
	await audit.recordAction(db, event, 'content.pack.import', null, {
		file: file.name,
		pack: outcome.pack.slug,
		...outcome.summary
	});
	return json({ pack: outcome.pack, summary: outcome.summary });
};
