/**
 * The admin console through the built server: every page, form action and the user export refused
 * to anonymous visitors (login redirect or 401) and to students (403) and working for admins;
 * role changes, disabling (sessions end at once), deleting (with the typed email) and exporting an
 * account; the usage, audit and budgets pages showing what the database holds.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startAppWithUsers } from '../helpers/app.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import { Client, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

const ADMIN = 'console.admin@example.com';
let server: RunningServer;
let anon: Client;
let student: Client;
let other: Client;
let admin: Client;
const ids = { admin: '', student: '', other: '' };

/** The id of the account with this email, as the admin's user list links it. */
async function idOf(email: string) {
	const html = await (await admin.fetch(`/admin?q=${encodeURIComponent(email)}`)).text();
	return /\/admin\/users\/([0-9a-f-]{36})/.exec(html)![1]!;
}

function sql() {
	return postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
}

async function login(email: string) {
	const c = new Client(server.url, { 'x-forwarded-proto': 'http' });
	const res = await c.post('/login', { email, password: PASSWORD });
	return { c, res };
}

beforeAll(async () => {
	({
		server,
		anon,
		students: [student, other],
		admin
	} = await startAppWithUsers(ADMIN, ['console.student@example.com', 'console.other@example.com']));
	ids.admin = await idOf(ADMIN);
	ids.student = await idOf('console.student@example.com');
	ids.other = await idOf('console.other@example.com');
}, 90_000);
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

describe('who may use the admin console', () => {
	const pages = () => [
		'/admin',
		`/admin/users/${ids.student}`,
		'/admin/usage',
		'/admin/usage?period=today',
		'/admin/audit',
		'/admin/audit?action=account.login&actor=console',
		'/admin/budgets'
	];

	it('pages: anonymous visitors go to log in, students get 403, admins 200', async () => {
		for (const page of pages()) {
			const a = await anon.fetch(page);
			expect(a.status, page).toBe(303);
			expect(a.headers.get('location'), page).toMatch(/^\/login\?next=/);
			const s = await student.fetch(page);
			expect(s.status, page).toBe(403);
			expect(await s.text(), page).toContain('This area is for administrators.');
			expect((await admin.fetch(page)).status, page).toBe(200);
		}
	});

	it('form actions and the export: refused with 401 and 403, and nothing changes', async () => {
		const target = { id: ids.other };
		const actions: [string, Record<string, string>][] = [
			['/admin?/role', { ...target, role: 'admin' }],
			['/admin?/disable', target],
			['/admin?/enable', target],
			['/admin?/delete', { ...target, confirm: 'console.other@example.com' }],
			[`/admin/users/${ids.other}?/role`, { ...target, role: 'admin' }],
			[`/admin/users/${ids.other}?/disable`, target],
			[`/admin/users/${ids.other}?/delete`, { ...target, confirm: 'console.other@example.com' }],
			['/admin/usage?/check', {}],
			[
				'/admin/budgets?/settings',
				{
					globalDailyUsd: '0.01',
					userDailyUsd: '0.01',
					warnPercent: '50',
					cacheTtlHours: '1',
					cheapModel: ''
				}
			],
			[
				'/admin/budgets?/price',
				{
					model: 'mock-tutor',
					inputPerMTok: '0',
					outputPerMTok: '0',
					cachedInputPerMTok: '0',
					cacheWritePerMTok: '0'
				}
			],
			['/admin/budgets?/resetPrice', { model: 'mock-tutor' }]
		];
		// What the budgets form and price table hold (the page itself differs per request: nonces).
		const budgetValues = async () =>
			[...(await (await admin.fetch('/admin/budgets')).text()).matchAll(/value="([^"]*)"/g)].map(
				(m) => m[1]
			);
		const budgets = await budgetValues();
		expect(budgets).toContain('mock-tutor');
		for (const [action, fields] of actions) {
			expect((await anon.post(action, fields)).status, action).toBe(401);
			expect((await student.post(action, fields)).status, action).toBe(403);
		}
		const exportUrl = `/api/admin/users/${ids.other}/export`;
		expect((await anon.fetch(exportUrl)).status).toBe(401);
		expect((await student.fetch(exportUrl)).status).toBe(403);
		// Still a student, still enabled, budgets and prices as they were.
		const after = await (await admin.fetch(`/admin/users/${ids.other}`)).text();
		expect(after).toContain('Make admin');
		expect(after).toContain('Disable');
		expect(after).not.toContain('class="off');
		expect(await budgetValues()).toEqual(budgets);
	});

	it('cache statistics: refused to anonymous visitors and students, figures for admins', async () => {
		const url = '/api/admin/cache/stats?days=7';
		expect((await anon.fetch(url)).status).toBe(401);
		expect((await student.fetch(url)).status).toBe(403);
		const res = await admin.fetch(url);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({
			sinceDays: 7,
			entries: expect.any(Number),
			turns: expect.any(Number),
			hits: expect.any(Number),
			hitRate: expect.any(Number),
			tokensSaved: expect.any(Number),
			dollarsSaved: expect.any(Number)
		});
		expect((await admin.fetch('/api/admin/cache/stats?days=abc')).status).toBe(400);
	});
});

describe('account actions', () => {
	it('refuses to let the admin demote, disable or delete themself', async () => {
		const self = { id: ids.admin };
		const demote = await admin.post('/admin?/role', { ...self, role: 'student' });
		expect(demote.status).toBe(403);
		expect(await demote.text()).toContain('You cannot remove your own administrator role.');
		expect((await admin.post('/admin?/disable', self)).status).toBe(403);
		expect((await admin.post('/admin?/delete', { ...self, confirm: ADMIN })).status).toBe(403);
		expect((await admin.fetch('/admin')).status).toBe(200);
		const page = await (await admin.fetch(`/admin/users/${ids.admin}`)).text();
		expect(page).toContain('Your own account');
		expect(page).not.toContain('Make student');
	});

	it('makes a student an admin and back, effective on their next request', async () => {
		const promote = await admin.post('/admin?/role', { id: ids.student, role: 'admin' });
		expect(promote.status).toBe(200);
		expect(await promote.text()).toContain('console.student@example.com is now an admin.');
		expect((await student.fetch('/admin')).status).toBe(200);
		expect((await admin.post('/admin?/role', { id: ids.student, role: 'student' })).status).toBe(
			200
		);
		expect((await student.fetch('/admin')).status).toBe(403);
		expect((await admin.post('/admin?/role', { id: ids.student, role: 'owner' })).status).toBe(400);
	});

	it('disabling ends the sessions at once and refuses log in; enabling lets them log in', async () => {
		const { c: second } = await login('console.student@example.com');
		expect((await student.fetch('/dashboard')).status).toBe(200);
		// A tutor tab already open: its socket is closed when the account is disabled.
		const socket = await TestSocket.open(server.port, second.cookieHeader());
		await socket.waitFor((m) => m.some((x) => x.type === 'ready'));
		const closed = new Promise<number>((r) => socket.ws.once('close', (code) => r(code)));
		const res = await admin.post(`/admin/users/${ids.student}?/disable`, { id: ids.student });
		expect(res.status).toBe(200);
		expect(await closed).toBe(4401);
		for (const c of [student, second]) {
			const r = await c.fetch('/dashboard');
			expect(r.status).toBe(303);
			expect(r.headers.get('location')).toMatch(/^\/login/);
			expect((await c.fetch('/api/me')).status).toBe(401);
		}
		const refused = await login('console.student@example.com');
		expect(await refused.res.text()).toContain('This account is disabled.');
		expect(await (await admin.fetch(`/admin/users/${ids.student}`)).text()).toContain('Disabled');
		expect((await admin.post('/admin?/enable', { id: ids.student })).status).toBe(200);
		const again = await login('console.student@example.com');
		expect(again.res.status).toBe(303);
		student = again.c;
		expect((await student.fetch('/dashboard')).status).toBe(200);
	});

	it('exports everything about a user as JSON, without the password hash', async () => {
		const created = await other.post('/tutor?/create', {});
		expect(created.status).toBe(303);
		const id = created.headers.get('location')!.split('/').pop()!;
		const socket = await TestSocket.open(server.port, other.cookieHeader());
		try {
			socket.send({ type: 'subscribe', conversationId: id });
			await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
			socket.send({
				type: 'send',
				conversationId: id,
				clientId: 'export-1',
				text: 'What is a for loop?'
			});
			await socket.waitFor(() => socket.events(id).some((e) => e.type === 'done'));
		} finally {
			socket.close();
		}
		type Export = {
			profile: { email: string };
			conversations: {
				id: string;
				messages: { role: string; content: string; status: string }[];
			}[];
			aiUsage: { conversationId: string | null; outcome: string }[];
		};
		// Watchers hear "done" before the answer's last flush is saved: wait for the saved state.
		let res!: Response;
		let text = '';
		let data!: Export;
		for (let i = 0; i < 50; i++) {
			res = await admin.fetch(`/api/admin/users/${ids.other}/export`);
			text = await res.text();
			data = JSON.parse(text) as Export;
			const answer = data.conversations.find((c) => c.id === id)?.messages[1];
			if (answer?.status === 'complete' && data.aiUsage.some((u) => u.outcome !== 'reserved'))
				break;
			await new Promise((r) => setTimeout(r, 100));
		}
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^application\/json/);
		expect(res.headers.get('content-disposition')).toBe(
			'attachment; filename="user-console.other_example.com.json"'
		);
		expect(text).not.toMatch(/argon2|passwordHash|password_hash|tokenHash/);
		expect(data.profile.email).toBe('console.other@example.com');
		const conversation = data.conversations.find((c) => c.id === id)!;
		expect(conversation.messages[0]).toMatchObject({
			role: 'user',
			content: 'What is a for loop?'
		});
		expect(conversation.messages[1]).toMatchObject({ role: 'assistant', status: 'complete' });
		expect(conversation.messages[1]!.content).toContain('What is a for loop?');
		expect(data.aiUsage).toEqual([
			expect.objectContaining({ conversationId: id, outcome: 'complete' })
		]);
		expect((await admin.fetch(`/api/admin/users/${crypto.randomUUID()}/export`)).status).toBe(404);
		expect((await admin.fetch('/api/admin/users/not-an-id/export')).status).toBe(404);
	});

	it('deletes an account only with its email typed, and its data goes with it', async () => {
		const wrong = await admin.post(`/admin/users/${ids.other}?/delete`, {
			id: ids.other,
			confirm: 'someone.else@example.com'
		});
		expect(wrong.status).toBe(400);
		expect(await wrong.text()).toContain('Type the account');
		expect((await admin.fetch(`/admin/users/${ids.other}`)).status).toBe(200);
		const res = await admin.post(`/admin/users/${ids.other}?/delete`, {
			id: ids.other,
			confirm: 'Console.Other@example.com'
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/admin?deleted=console.other%40example.com');
		expect(await (await admin.fetch(res.headers.get('location')!)).text()).toContain(
			'Deleted console.other@example.com'
		);
		expect((await admin.fetch(`/admin/users/${ids.other}`)).status).toBe(404);
		expect((await other.fetch('/dashboard')).status).toBe(303);
		if (TEST_DATABASE_URL) {
			const db = sql();
			try {
				const [left] = await db<{ users: number; conversations: number; tokens: number }[]>`
					select (select count(*)::int from users where id = ${ids.other}) as users,
						(select count(*)::int from conversations where user_id = ${ids.other}) as conversations,
						(select count(*)::int from refresh_tokens where user_id = ${ids.other}) as tokens`;
				expect(left).toEqual({ users: 0, conversations: 0, tokens: 0 });
			} finally {
				await db.end();
			}
		}
	});
});

describe.skipIf(!TEST_DATABASE_URL)('usage, audit and budgets pages', () => {
	it('the usage page and the users list show the logged usage', async () => {
		const db = sql();
		try {
			await db`insert into llm_usage (user_id, provider, model, source, routed, cost_usd, saved_usd, latency_ms, outcome)
				values (${ids.student}, 'anthropic', 'claude-report-test', 'provider', true, 1.25, 0, 800, 'complete'),
					(${ids.student}, 'anthropic', 'claude-report-test', 'cache', false, 0, 0.75, null, 'complete')`;
		} finally {
			await db.end();
		}
		const html = await (await admin.fetch('/admin/usage?period=today')).text();
		expect(html).toContain('claude-report-test');
		expect(html).toContain('$1.25');
		expect(html).toContain('$0.75');
		expect(html).toContain('console.student@example.com');
		expect(html).toMatch(/<title[^>]*>AI cost per day, last 30 days<\/title>/);
		const list = await (await admin.fetch('/admin?q=console.student')).text();
		expect(list).toMatch(/\$1\.2[5-9]|\$1\.[3-9]/);
		const check = await admin.post('/admin/usage?/check', {});
		expect(check.status).toBe(200);
	});

	it('the audit log shows the actions above, filtered by action and by actor', async () => {
		const all = await (await admin.fetch('/admin/audit')).text();
		for (const action of [
			'user.role_change',
			'user.disable',
			'user.enable',
			'user.export',
			'user.delete',
			'ai.health_check'
		])
			expect(all, action).toContain(`<code>${action}</code>`);
		const deletes = await (await admin.fetch('/admin/audit?action=user.delete')).text();
		expect(deletes).toContain('<code>user.delete</code>');
		expect(deletes).not.toContain('<code>user.export</code>');
		expect(deletes).toContain('console.other@example.com');
		const byStudent = await (await admin.fetch('/admin/audit?actor=console.student')).text();
		expect(byStudent).toContain('<code>account.login</code>');
		expect(byStudent).not.toContain('<code>user.role_change</code>');
	});

	it('budgets: saves valid settings, refuses bad ones keeping what was typed, sets and resets a price', async () => {
		const fields = {
			globalDailyUsd: '25',
			userDailyUsd: '0.75',
			warnPercent: '80',
			cacheEnabled: 'on',
			cacheTtlHours: '12',
			cheapModel: 'mock-tutor-mini'
		};
		const saved = await admin.post('/admin/budgets?/settings', fields);
		expect(saved.status).toBe(200);
		const page = await (await admin.fetch('/admin/budgets')).text();
		expect(page).toContain('value="25"');
		expect(page).toContain('value="0.75"');
		expect(page).toContain('value="12"');
		const bad = await admin.post('/admin/budgets?/settings', { ...fields, warnPercent: '250' });
		expect(bad.status).toBe(400);
		const badHtml = await bad.text();
		expect(badHtml).toContain('The warning level must be at most 100%');
		expect(badHtml).toContain('value="250"');
		const price = await admin.post('/admin/budgets?/price', {
			model: 'Local-Llama',
			inputPerMTok: '0.1',
			outputPerMTok: '0.2',
			cachedInputPerMTok: '0',
			cacheWritePerMTok: '0'
		});
		expect(price.status).toBe(200);
		expect(await (await admin.fetch('/admin/budgets')).text()).toContain('local-llama');
		expect(
			(
				await admin.post('/admin/budgets?/price', {
					model: 'x',
					inputPerMTok: 'free',
					outputPerMTok: '1',
					cachedInputPerMTok: '1',
					cacheWritePerMTok: '1'
				})
			).status
		).toBe(400);
		expect((await admin.post('/admin/budgets?/resetPrice', { model: 'local-llama' })).status).toBe(
			200
		);
		expect(await (await admin.fetch('/admin/budgets')).text()).not.toContain('local-llama');
		const audit = await (await admin.fetch('/admin/audit')).text();
		for (const action of ['cost.settings_update', 'cost.price_set', 'cost.price_reset'])
			expect(audit, action).toContain(`<code>${action}</code>`);
	});
});
