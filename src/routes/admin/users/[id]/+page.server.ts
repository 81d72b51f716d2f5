import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import * as adminUsers from '#lib/server/admin/users.ts';
import * as userActions from '#lib/server/admin/user-actions.ts';
import * as reports from '#lib/server/cost/reports.ts';
import { isAdminEmail } from '#lib/server/admin/roles.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals }) => {
	const id = v.safeParse(v.pipe(v.string(), v.uuid()), params.id);
	if (!id.success) error(404, 'No such account.');
	const { config, database } = locals.services;
	const db = database.db;
	const user = await adminUsers.get(db, id.output);
	if (!user) error(404, 'No such account. It may have been deleted.');
	const [days, conversations, today] = await Promise.all([
		reports.dailyCost(db, { days: 30, userId: user.id }),
		adminUsers.recentConversations(db, user.id, 10),
		reports.spendByUser(db, [user.id])
	]);
	return {
		account: {
			id: user.id,
			email: user.email,
			displayName: user.displayName,
			role: user.role,
			byAdminEmail: isAdminEmail(config, user.email),
			self: user.id === locals.user?.id,
			disabled: Boolean(user.disabledAt),
			disabledAt: user.disabledAt?.toISOString() ?? null,
			createdAt: user.createdAt.toISOString(),
			updatedAt: user.updatedAt.toISOString()
		},
		days,
		spentTodayUsd: today.get(user.id) ?? 0,
		conversations: conversations.map((c) => ({
			id: c.id,
			title: c.title,
			messages: Number(c.messages),
			updatedAt: c.updatedAt.toISOString()
		}))
	};
};

export const actions: Actions = userActions.actions;
