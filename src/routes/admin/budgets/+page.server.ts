import { inArray } from 'drizzle-orm';
import * as budgetActions from '#lib/server/admin/budget-actions.ts';
import { listAlerts, spentToday } from '#lib/server/cost/budgets.ts';
import { listPrices } from '#lib/server/cost/pricing.ts';
import { defaults, getCostSettings } from '#lib/server/cost/settings.ts';
import { users } from '#lib/server/db/schema.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const { config, database, provider } = locals.services;
	const db = database.db;
	const [settings, spent, prices, alerts] = await Promise.all([
		getCostSettings(db, { fresh: true, base: config.cost }),
		spentToday(db),
		listPrices(db),
		listAlerts(db, 20)
	]);
	const ids = [...new Set(alerts.flatMap((a) => (a.userId ? [a.userId] : [])))];
	const emails = new Map(
		ids.length
			? (
					await db
						.select({ id: users.id, email: users.email })
						.from(users)
						.where(inArray(users.id, ids))
				).map((u) => [u.id, u.email])
			: []
	);
	return {
		settings,
		defaults: defaults(config.cost),
		spentTodayUsd: spent,
		provider: { name: provider.name, model: provider.model },
		prices,
		alerts: alerts.map((a) => ({
			id: a.id,
			global: a.subject === 'global',
			userId: a.userId,
			email: a.userId ? (emails.get(a.userId) ?? null) : null,
			day: a.day,
			threshold: a.threshold,
			spentUsd: a.spentUsd,
			limitUsd: a.limitUsd,
			delivery: a.delivery,
			createdAt: a.createdAt.toISOString()
		}))
	};
};

export const actions: Actions = budgetActions.actions;
