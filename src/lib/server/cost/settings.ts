/**
 * The cost settings admins change at run time (budgets, warning level, response cache, routing).
 * The environment gives the defaults; an admin's change is stored in `app_settings` and wins.
 * Every replica reads the row at most every few seconds, so a change reaches all of them quickly.
 *
 * @example
 * const s = await getCostSettings(db, { base: config.cost });
 * if (s.userDailyUsd > 0 && spent >= s.userDailyUsd) ...
 */
import * as v from 'valibot';
import { eq } from 'drizzle-orm';
import type { Db } from '#lib/server/db/index.ts';
import { appSettings } from '#lib/server/db/schema.ts';
import type { Config } from '#lib/server/config.ts';

/** What admins can change at run time: the environment's cost settings but prompt caching. */
export type CostSettings = Omit<Config['cost'], 'promptCache'>;

const KEY = 'cost';

const Dollars = v.pipe(v.number(), v.minValue(0), v.maxValue(1_000_000));
const Stored = v.partial(
	v.object({
		userDailyUsd: Dollars,
		globalDailyUsd: Dollars,
		warnPercent: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
		cacheEnabled: v.boolean(),
		cacheTtlSeconds: v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(90 * 86_400)),
		routingEnabled: v.boolean(),
		cheapModel: v.pipe(v.string(), v.trim(), v.maxLength(100))
	})
);

const money = (label: string) =>
	v.pipe(
		v.string(),
		v.trim(),
		v.regex(/^\d+(\.\d{1,4})?$/, `${label} must be an amount in dollars, like 0.50`),
		v.transform(Number),
		v.maxValue(1_000_000, `${label} must be at most 1000000`)
	);
const checkbox = v.pipe(
	v.optional(v.string(), ''),
	v.transform((s) => s === 'on' || s === 'true')
);

/** The admin form (strings from FormData) as a full settings object. */
export const CostSettingsForm = v.object({
	userDailyUsd: money('The per-student limit'),
	globalDailyUsd: money('The daily limit'),
	warnPercent: v.pipe(
		v.string(),
		v.trim(),
		v.regex(/^\d{1,3}$/, 'The warning level must be a whole percentage'),
		v.transform(Number),
		v.minValue(1, 'The warning level must be at least 1%'),
		v.maxValue(100, 'The warning level must be at most 100%')
	),
	cacheEnabled: checkbox,
	cacheTtlHours: v.pipe(
		v.string(),
		v.trim(),
		v.regex(/^\d{1,4}$/, 'The cache lifetime must be a whole number of hours'),
		v.transform(Number),
		v.minValue(1, 'The cache lifetime must be at least 1 hour'),
		v.maxValue(2160, 'The cache lifetime must be at most 2160 hours (90 days)')
	),
	routingEnabled: checkbox,
	cheapModel: v.pipe(v.string(), v.trim(), v.maxLength(100, 'The model name is too long'))
});

/** Turns the parsed form into settings. */
export function fromForm(form: v.InferOutput<typeof CostSettingsForm>): CostSettings {
	const { cacheTtlHours, ...rest } = form;
	return { ...rest, cacheTtlSeconds: cacheTtlHours * 3600 };
}

/** The environment's settings. */
export function defaults(cost: Config['cost']): CostSettings {
	const { promptCache: _, ...settings } = cost;
	return settings;
}

const READ_EVERY_MS = 5000;
const memo = new WeakMap<Db, { at: number; value: Promise<CostSettings> }>();

/**
 * The settings in force: the environment's defaults (`base`) with the admins' changes on top. Read from the database at most every 5 s: the callers
 * that come while a read is under way share it (at hundreds of questions a second they would
 * otherwise each read).
 */
export function getCostSettings(
	db: Db,
	options: { fresh?: boolean; base: Config['cost'] }
): Promise<CostSettings> {
	const seen = memo.get(db);
	if (!options.fresh && seen && Date.now() - seen.at < READ_EVERY_MS) return seen.value;
	const value = readCostSettings(db, options.base);
	memo.set(db, { at: Date.now(), value });
	value.catch(() => {
		if (memo.get(db)?.value === value) memo.delete(db); // the next caller reads again
	});
	return value;
}

async function readCostSettings(db: Db, base: Config['cost']): Promise<CostSettings> {
	const [row] = await db.select().from(appSettings).where(eq(appSettings.key, KEY));
	const stored = row ? v.safeParse(Stored, row.value) : null;
	return { ...defaults(base), ...(stored?.success ? stored.output : {}) };
}

/** Stores a change (merged with earlier ones) and returns the settings now in force. */
export async function updateCostSettings(
	db: Db,
	patch: Partial<CostSettings>,
	actorId: string | null,
	base: Config['cost']
): Promise<CostSettings> {
	const current = await getCostSettings(db, { fresh: true, base });
	const next = v.parse(Stored, { ...current, ...patch });
	await db
		.insert(appSettings)
		.values({ key: KEY, value: next, updatedBy: actorId })
		.onConflictDoUpdate({
			target: appSettings.key,
			set: { value: next, updatedBy: actorId, updatedAt: new Date() }
		});
	return getCostSettings(db, { fresh: true, base });
}
