/**
 * A student's own account through the built server: changing the display name, downloading their
 * data (theirs only), and deleting the account only after re-authentication and the typed email,
 * with everything personal gone and the anonymous aggregates kept. Who may call each new route is
 * checked in one table.
 */
import postgres from 'postgres';
import type { Cookies } from '@sveltejs/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_RATE_LIMIT } from '../../src/lib/server/account/self-service.ts';
import { markReauthenticated } from '../../src/lib/server/auth/reauth.ts';
import { signAccessToken } from '../../src/lib/server/auth/tokens.ts';
import { PASSWORD, startAppWithUsers } from '../helpers/app.ts';
import { testConfig } from '../helpers/config.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import { Client, type RunningServer } from '../helpers/server.ts';

const ADMIN = 'self.admin@example.com';
const STUDENT = 'self.student@example.com';
const OTHER = 'self.other@example.com';
const config = testConfig();

let server: RunningServer;
let anon: Client;
let student: Client;
let other: Client;
let admin: Client;
let db: postgres.Sql;
const ids = { student: '', other: '', admin: '' };

const client = () => new Client(server.url, { 'x-forwarded-proto': 'http' });

async function idOf(email: string) {
	const [row] = await db<{ id: string }[]>`select id from users where email = ${email}`;
	return row?.id ?? null;
}

async function registered(email: string) {
	const c = client();
	const res = await c.post('/register', {
		email,
		displayName: email.split('@')[0]!,
		password: PASSWORD
	});
	expect(res.status).toBe(303);
	return c;
}

/** A signed-in client for an account without a password, with an access token minted as login would. */
async function signedInWithoutPassword(id: string) {
	const token = await signAccessToken(config.jwtSecret, { userId: id, tokenVersion: 0 }, 900);
	const c = client();
	c.cookies.set('tutor_at', token);
	return c;
}

/** The re-authentication cookie a fresh single sign-on sets, made by the app's own function. */
async function reauthCookie(userId: string) {
	let value = '';
	const cookies = { set: (_name: string, v: string) => (value = v) } as unknown as Cookies;
	await markReauthenticated(cookies, config, new URL(server.url), userId);
	return value;
}

async function deleteForm(c: Client, fields: Record<string, string>, headers = {}) {
	return c.post('/account?/deleteAccount', fields, headers);
}

async function saveCode(c: Client, code: string) {
	const [exercise] = await db<{ id: string }[]>`select id from exercises order by id limit 1`;
	const res = await c.fetch(`/api/me/exercises/${exercise!.id}/code`, {
		method: 'PUT',
		body: JSON.stringify({ code }),
		headers: { 'content-type': 'application/json' }
	});
	expect(res.status).toBe(200);
}

async function conversationWith(c: Client, userId: string, text: string) {
	const created = await c.post('/tutor?/create', {});
	expect(created.status).toBe(303);
	const id = created.headers.get('location')!.split('/').pop()!;
	await db`insert into messages (conversation_id, role, content, status, seq)
		values (${id}, 'user', ${text}, 'complete', 1)`;
	await db`insert into lesson_progress (user_id, lesson_id)
		select ${userId}, id from lessons order by id limit 1 on conflict do nothing`;
	return id;
}

beforeAll(async () => {
	({
		server,
		anon,
		students: [student, other],
		admin
	} = await startAppWithUsers(ADMIN, [STUDENT, OTHER]));
	db = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
	ids.student = (await idOf(STUDENT))!;
	ids.other = (await idOf(OTHER))!;
	ids.admin = (await idOf(ADMIN))!;
	await conversationWith(student, ids.student, 'student-secret-question');
	await conversationWith(other, ids.other, 'other-secret-question');
	await saveCode(student, 'print("student-code")');
	await saveCode(other, 'print("other-code")');
}, 90_000);
afterAll(async () => {
	await db?.end();
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe.skipIf(!TEST_DATABASE_URL)('self-service account', () => {
	it('who may use the new routes: anonymous, a student, another student, an admin', async () => {
		// Statuses per caller; each route acts on the caller's own account only.
		// Each client's current display name (as registered), so the rename row changes nothing.
		const names = {
			anon: 'Anon',
			student: 'self.student',
			other: 'self.other',
			admin: 'self.admin'
		};
		type Who = keyof typeof names;
		const table: {
			route: string;
			send: (c: Client, who: Who) => Promise<Response>;
			anon: number;
			student: number;
			other: number;
			admin: number;
		}[] = [
			{
				route: 'GET /account',
				send: (c) => c.fetch('/account'),
				anon: 303,
				student: 200,
				other: 200,
				admin: 200
			},
			{
				route: 'GET /api/me/export',
				send: (c) => c.fetch('/api/me/export'),
				anon: 401,
				student: 200,
				other: 200,
				admin: 200
			},
			{
				route: 'POST /account?/rename (the same name)',
				send: (c, who) => c.post('/account?/rename', { displayName: names[who] }),
				anon: 401,
				student: 200,
				other: 200,
				admin: 200
			},
			{
				// The student's email with a wrong password: never deletes the student's account.
				route: 'POST /account?/deleteAccount (the student email, a wrong password)',
				send: (c) => deleteForm(c, { currentPassword: 'not the password', confirmEmail: STUDENT }),
				anon: 401,
				student: 400,
				other: 400,
				admin: 409
			}
		];
		const callers = { anon, student, other, admin };
		for (const row of table)
			for (const who of Object.keys(callers) as Who[])
				expect((await row.send(callers[who], who)).status, `${row.route} as ${who}`).toBe(row[who]);
		expect(await idOf(STUDENT)).toBe(ids.student);
		expect(await idOf(OTHER)).toBe(ids.other);
		expect(await idOf(ADMIN)).toBe(ids.admin);
	});

	it('renames: a valid name shows in the header; an invalid one is refused and changes nothing', async () => {
		const res = await student.post('/account?/rename', { displayName: '  Ada Lovelace ' });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Display name saved.');
		const me = (await (await student.fetch('/api/me')).json()) as { displayName: string };
		expect(me.displayName).toBe('Ada Lovelace');
		expect(await (await student.fetch('/dashboard')).text()).toMatch(
			/class="who[^"]*"[^>]*>Ada Lovelace</
		);
		for (const bad of ['', '   ', 'x'.repeat(81), 'bell\u0007name']) {
			const refused = await student.post('/account?/rename', { displayName: bad });
			expect(refused.status, JSON.stringify(bad)).toBe(400);
		}
		const after = (await (await student.fetch('/api/me')).json()) as { displayName: string };
		expect(after.displayName).toBe('Ada Lovelace');
		const audit = await db`select actor_id from audit_log where action = 'account.renamed'`;
		expect(audit.map((r) => r.actor_id)).toEqual([ids.student]);
	});

	it("exports the student's own data, never another student's", async () => {
		const res = await student.fetch('/api/me/export');
		expect(res.status).toBe(200);
		const today = new Date().toISOString().slice(0, 10);
		expect(res.headers.get('content-disposition')).toBe(
			`attachment; filename="ai-coding-tutor-data-${today}.json"`
		);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(res.headers.get('content-type')).toMatch(/^application\/json/);
		const text = await res.text();
		const data = JSON.parse(text) as {
			profile: { id: string; email: string };
			conversations: { messages: { content: string }[] }[];
			exerciseProgress: { code: string | null }[];
			lessonProgress: unknown[];
		};
		expect(data.profile).toMatchObject({ id: ids.student, email: STUDENT });
		expect(data.conversations.flatMap((c) => c.messages.map((m) => m.content))).toEqual([
			'student-secret-question'
		]);
		expect(data.exerciseProgress.map((p) => p.code)).toEqual(['print("student-code")']);
		expect(data.lessonProgress).toHaveLength(1);
		for (const foreign of [OTHER, ids.other, 'other-secret-question', 'other-code', ADMIN])
			expect(text).not.toContain(foreign);
		expect(text).not.toMatch(/argon2|passwordHash|password_hash|tokenHash/);
		const [audit] = await db`select count(*)::int as n from audit_log
			where action = 'account.exported' and actor_id = ${ids.student}`;
		expect(audit!.n).toBeGreaterThan(0);
		expect((await anon.fetch('/api/me/export')).status).toBe(401);
	});

	it('limits downloads per user', async () => {
		const [used] =
			await db`select count::int as n from rate_limits where key = ${`export:user:${ids.other}`}`;
		for (let i = used?.n ?? 0; i < EXPORT_RATE_LIMIT.limit; i++)
			expect((await other.fetch('/api/me/export')).status).toBe(200);
		const refused = await other.fetch('/api/me/export');
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
		// Another user's allowance is their own.
		expect((await student.fetch('/api/me/export')).status).toBe(200);
	});

	it('refuses deletion without re-authentication or confirmation, and nothing is deleted', async () => {
		const attempts: [string, Record<string, string>, number, string][] = [
			['no password', { confirmEmail: STUDENT }, 400, 'Your current password is not correct.'],
			[
				'wrong password',
				{ currentPassword: 'not the password', confirmEmail: STUDENT },
				400,
				'Your current password is not correct.'
			],
			['no confirmation', { currentPassword: PASSWORD }, 400, 'Type your email address'],
			[
				'another email',
				{ currentPassword: PASSWORD, confirmEmail: OTHER },
				400,
				'Type your email address'
			]
		];
		for (const [name, fields, status, message] of attempts) {
			const res = await deleteForm(student, fields);
			expect(res.status, name).toBe(status);
			expect(await res.text(), name).toContain(message);
		}
		// SvelteKit's CSRF check: a form posted from another site never reaches the action.
		const crossSite = await deleteForm(
			student,
			{ currentPassword: PASSWORD, confirmEmail: STUDENT },
			{ origin: 'https://evil.example' }
		);
		expect(crossSite.status).toBe(403);
		expect((await student.fetch('/api/me')).status).toBe(200);
		const [left] = await db`select
			(select count(*)::int from users where id = ${ids.student}) as users,
			(select count(*)::int from conversations where user_id = ${ids.student}) as conversations`;
		expect(left).toEqual({ users: 1, conversations: 1 });
	});

	it('an account without a password needs a fresh sign-in with its provider', async () => {
		const email = 'self.sso@example.com';
		const [row] = await db<{ id: string }[]>`insert into users (email, display_name, password_hash)
			values (${email}, 'SSO only', null) returning id`;
		const sso = await signedInWithoutPassword(row!.id);
		expect((await sso.fetch('/api/me')).status).toBe(200);
		const page = await (await sso.fetch('/account')).text();
		// The delete form asks for no password; it says to sign in with the provider instead.
		const form = page.slice(page.indexOf('id="data-title"'));
		expect(form).toMatch(/To delete it, sign in again with that\s+provider/);
		expect(form).toContain('action="?/deleteAccount"');
		expect(form).not.toContain('name="currentPassword"');
		const refused = await deleteForm(sso, { confirmEmail: email, currentPassword: 'guess' });
		expect(refused.status).toBe(401);
		expect(await refused.text()).toContain('sign in again with your sign-in provider');
		// Someone else's fresh sign-in proves nothing about this account.
		sso.cookies.set('tutor_reauth', await reauthCookie(ids.student));
		expect((await deleteForm(sso, { confirmEmail: email })).status).toBe(401);
		expect(await idOf(email)).toBe(row!.id);

		sso.cookies.set('tutor_reauth', await reauthCookie(row!.id));
		const done = await deleteForm(sso, { confirmEmail: email });
		expect(done.status).toBe(303);
		expect(done.headers.get('location')).toBe('/login?deleted=1');
		expect(await idOf(email)).toBeNull();
	});

	it('refuses the ADMIN_EMAIL account and the only administrator', async () => {
		const res = await deleteForm(admin, { currentPassword: PASSWORD, confirmEmail: ADMIN });
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('ADMIN_EMAIL');
		expect(await idOf(ADMIN)).toBe(ids.admin);

		const lastEmail = 'self.last.admin@example.com';
		const last = await registered(lastEmail);
		await db`update users set role = 'admin' where email = ${lastEmail}`;
		await db`update users set role = 'student' where email = ${ADMIN}`;
		try {
			const only = await deleteForm(last, { currentPassword: PASSWORD, confirmEmail: lastEmail });
			expect(only.status).toBe(409);
			expect(await only.text()).toContain('You are the only administrator.');
			expect(await idOf(lastEmail)).not.toBeNull();
		} finally {
			await db`update users set role = 'admin' where email = ${ADMIN}`;
		}
		// With a second administrator, an administrator may leave.
		const two = await deleteForm(last, { currentPassword: PASSWORD, confirmEmail: lastEmail });
		expect(two.status).toBe(303);
		expect(await idOf(lastEmail)).toBeNull();
	});

	it('deletes with the password: personal data gone, signed out, anonymous aggregates kept', async () => {
		await db`insert into llm_usage (user_id, provider, model, source, cost_usd, outcome)
			values (${ids.student}, 'mock', 'self-service-model', 'provider', 0.5, 'complete')`;
		await db`insert into spend_daily (subject, day, usd, calls) values (${ids.student}, current_date, 0.5, 1)`;
		const [before] =
			await db`select calls::int, cost_usd from usage_daily where model = 'self-service-model'`;
		expect(before).toEqual({ calls: 1, cost_usd: 0.5 });
		const otherBefore =
			await db`select count(*)::int as n from conversations where user_id = ${ids.other}`;
		const oldCookies = new Client(server.url, { 'x-forwarded-proto': 'http' });
		oldCookies.cookies = new Map(student.cookies);

		const res = await deleteForm(student, {
			currentPassword: PASSWORD,
			confirmEmail: `  ${STUDENT.toUpperCase()} `
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login?deleted=1');
		expect(student.cookies.has('tutor_at')).toBe(false);
		expect(student.cookies.has('tutor_rt')).toBe(false);
		expect((await oldCookies.fetch('/api/me')).status).toBe(401);
		const notice = await (await anon.fetch('/login?deleted=1')).text();
		expect(notice).toContain('Your account was deleted');
		const login = await client().post('/login', { email: STUDENT, password: PASSWORD });
		expect(login.status).toBe(400);

		const [gone] = await db`select
			(select count(*)::int from users where id = ${ids.student}) as users,
			(select count(*)::int from conversations where user_id = ${ids.student}) as conversations,
			(select count(*)::int from messages where content = 'student-secret-question') as messages,
			(select count(*)::int from lesson_progress where user_id = ${ids.student}) as lessons,
			(select count(*)::int from exercise_progress where user_id = ${ids.student}) as code,
			(select count(*)::int from refresh_tokens where user_id = ${ids.student}) as sessions,
			(select count(*)::int from usage_user_daily where user_id = ${ids.student}) as user_usage,
			(select count(*)::int from spend_daily where subject = ${ids.student}) as spend,
			(select count(*)::int from rate_limits where key like ${`%${ids.student}%`}) as counters,
			(select count(*)::int from audit_log where actor_id = ${ids.student}) as acted,
			(select count(*)::int from audit_log where target_id = ${ids.student} and ip is not null) as addressed`;
		expect(gone).toEqual({
			users: 0,
			conversations: 0,
			messages: 0,
			lessons: 0,
			code: 0,
			sessions: 0,
			user_usage: 0,
			spend: 0,
			counters: 0,
			acted: 0,
			addressed: 0
		});
		// What stays: the usage row without its person, the daily rollup, the deletion's audit entry.
		expect(
			await db`select user_id, conversation_id, cost_usd from llm_usage where model = 'self-service-model'`
		).toEqual([{ user_id: null, conversation_id: null, cost_usd: 0.5 }]);
		expect(
			await db`select calls::int, cost_usd from usage_daily where model = 'self-service-model'`
		).toEqual([before]);
		expect(
			await db`select actor_id, ip, detail from audit_log where action = 'account.deleted' and target_id = ${ids.student}`
		).toEqual([{ actor_id: null, ip: null, detail: {} }]);
		const [anonymous] = await db`select count(*)::int as n from audit_log
			where action in ('account.register', 'account.renamed') and actor_id is null and ip is null`;
		expect(anonymous!.n).toBeGreaterThanOrEqual(2);

		// The other student is untouched.
		expect((await other.fetch('/api/me')).status).toBe(200);
		expect(
			await db`select count(*)::int as n from conversations where user_id = ${ids.other}`
		).toEqual(otherBefore);
		expect(
			await db`select count(*)::int as n from messages where content = 'other-secret-question'`
		).toEqual([{ n: 1 }]);
	});
});
