import { count, isNotNull } from 'drizzle-orm';
import { modules } from '#lib/server/db/schema.ts';
import { PACK_LIMITS } from '#lib/server/learn/pack.ts';
import { ZIP_MAX_BYTES } from '#lib/server/admin/packs.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const packs = await locals.services.database.db
		.select({ slug: modules.pack, modules: count() })
		.from(modules)
		.where(isNotNull(modules.pack))
		.groupBy(modules.pack)
		.orderBy(modules.pack);
	return {
		packs: packs.map((p) => ({ slug: p.slug!, modules: p.modules })),
		limits: { ...PACK_LIMITS, zipBytes: ZIP_MAX_BYTES }
	};
};
