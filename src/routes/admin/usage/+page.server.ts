import * as v from 'valibot';
import * as audit from '#lib/server/audit.ts';
import { checkProvider } from '#lib/server/ai/health.ts';
import * as reports from '#lib/server/cost/reports.ts';
import type { Actions, PageServerLoad } from './$types';

const PERIODS = {
	today: { label: 'Today', since: () => reports.startOfDay() },
	month: { label: 'This month', since: () => reports.startOfMonth() },
	'30d': {
		label: 'Last 30 days',
		since: () => new Date(reports.startOfDay().getTime() - 29 * 86_400_000)
	}
} as const;
type Period = keyof typeof PERIODS;

export const load: PageServerLoad = async ({ locals, url }) => {
	const wanted = v.safeParse(v.picklist(['today', 'month', '30d']), url.searchParams.get('period'));
	const period: Period = wanted.success ? wanted.output : '30d';
	const since = PERIODS[period].since();
	const { database, provider } = locals.services;
	const db = database.db;
	const [days, summary, models, topToday, topMonth] = await Promise.all([
		reports.dailyCost(db, { days: 30 }),
		reports.summary(db, since),
		reports.byModel(db, since),
		reports.topUsers(db, reports.startOfDay(), 10),
		reports.topUsers(db, reports.startOfMonth(), 10)
	]);
	return {
		period,
		periods: Object.entries(PERIODS).map(([key, p]) => ({ key, label: p.label })),
		days,
		summary,
		models,
		topToday,
		topMonth,
		provider: { name: provider.name, model: provider.model },
		// Streamed: the page shows while the (cached, 30 s) probe runs.
		health: checkProvider(provider)
	};
};

export const actions: Actions = {
	/** Probes the provider now, not from the cache; the page's reload then shows the new result. */
	check: async (event) => {
		const { database, provider } = event.locals.services;
		const health = await checkProvider(provider, { fresh: true });
		await audit.recordAction(database.db, event, 'ai.health_check', null, {
			provider: health.provider,
			model: health.model,
			ok: health.ok
		});
		return { checked: health.ok };
	}
};
