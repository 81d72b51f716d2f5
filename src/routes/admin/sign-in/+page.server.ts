import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import * as audit from '#lib/server/audit.ts';
import * as policy from '#lib/server/auth/policy.ts';
import { readForm } from '#lib/server/http/forms.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const { config, database } = locals.services;
	const base = config.origin ?? url.origin;
	return {
		policy: await policy.read(database.db),
		providers: config.sso.map((p) => ({
			id: p.id,
			name: p.name,
			kind: p.kind,
			issuer: p.issuer,
			trustEmail: p.trustEmail,
			callbackUrl: `${base}/auth/sso/${p.id}/callback`
		})),
		adminEmails: config.adminEmails
	};
};

export const actions: Actions = {
	default: async (event) => {
		const body = await readForm(event.request);
		if (!body.ok) return fail(body.status, { message: body.message });
		const domains = String(body.data.get('ssoDomains') ?? '');
		if (domains.length > 10_000) return fail(400, { message: 'The domain list is too long.' });
		const parsed = v.safeParse(policy.PolicySchema, {
			passwordSignIn: body.data.get('passwordSignIn') === 'on',
			ssoDomains: domains
				.split(/[\s,]+/)
				.map((d) => d.replace(/^@/, ''))
				.filter(Boolean)
		});
		if (!parsed.success) {
			const bad = parsed.issues.find((i) => i.input !== undefined)?.input;
			return fail(400, {
				message:
					typeof bad === 'string'
						? `"${bad}" is not a domain like school.edu.`
						: parsed.issues[0]!.message
			});
		}
		const { config, database } = event.locals.services;
		const saved = await policy.save(database.db, config, event.locals.user!.id, parsed.output);
		if (!saved.ok) return fail(409, { message: saved.message });
		await audit.recordAction(database.db, event, 'settings.sign_in_policy', null, parsed.output);
		return { success: 'Sign-in settings saved.' };
	}
};
