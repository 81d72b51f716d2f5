/**
 * Password reset and email verification on the built server, with a real SMTP server as the
 * mailbox: links followed from the mails themselves, single use, expiry, the same answer (and the
 * same time) for unknown addresses, rate limits, REQUIRE_EMAIL_VERIFICATION, bad input, and who may
 * open each new page. Needs PostgreSQL (TEST_DATABASE_URL): some tests age a token in the database.
 */
import { createHash } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/config.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import { ADMIN_SETUP_CODE, Client, claimAdmin, startServer } from '../helpers/server.ts';
import { linkIn, startMailbox, type Mailbox } from '../fakes/mailbox.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new long password';
const ADMIN = 'head.teacher@example.com';
const SPENT = 'This link has expired or was already used';
const RATE_LIMIT = 3; // per address; a client address gets ten times as many
/** An account whose reset mail, asked for last, shows that earlier requests' mails have gone out. */
const MARKER = 'marker@example.com';

let mailbox: Mailbox;
const stops: (() => Promise<unknown>)[] = [];

/** One server with its own database handle for the test, and clients that each claim an address. */
async function start(env: Record<string, string>) {
	const server = await startServer({
		postgres: true,
		env: {
			JWT_SECRET_KEY: TEST_SECRET,
			LLM_PROVIDER: 'mock',
			ADMIN_EMAIL: ADMIN,
			ADMIN_SETUP_CODE,
			ADDRESS_HEADER: 'x-forwarded-for',
			API_RATE_LIMIT_WRITE: '100000',
			SMTP_HOST: '127.0.0.1',
			SMTP_PORT: String(mailbox.port),
			...env
		}
	});
	const sql = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
	stops.push(async () => {
		await sql.end();
		await server.stop();
		await server.dropDatabase();
	});
	let ip = 0;
	const client = (address = `10.20.${Math.floor(++ip / 250)}.${ip % 250}`) =>
		new Client(server.url, { 'x-forwarded-for': address });
	return { server, sql, client };
}
type App = Awaited<ReturnType<typeof start>>;

/** Posts a form as `use:enhance` does, answered with the ActionResult as JSON. */
function postAction(c: Client, path: string, fields: Record<string, string>) {
	return c.post(path, fields, { accept: 'application/json' });
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

beforeAll(async () => {
	mailbox = await startMailbox();
});
afterAll(async () => {
	for (const stop of stops) await stop();
	await mailbox?.close();
});

describe.skipIf(!TEST_DATABASE_URL)('password reset and email verification', () => {
	let app: App;
	/** Registers through the form; the verification mail it sends is taken from the mailbox. */
	async function register(email: string) {
		const c = app.client();
		const res = await c.post('/register', { email, displayName: 'Sam', password: PASSWORD });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/dashboard');
		const mail = await mailbox.next(email);
		expect(mail.subject).toBe('Confirm your email for AI Coding Tutor');
		return c;
	}
	const login = (email: string, password: string) =>
		app.client().post('/login', { email, password });
	async function resetLink(email: string) {
		const res = await app.client().post('/forgot-password', { email });
		expect(res.status).toBe(200);
		const mail = await mailbox.next(email);
		expect(mail.subject).toBe('Reset your AI Coding Tutor password');
		return linkIn(mail, '/reset-password');
	}
	const tokenRow = async (token: string) =>
		(
			await app.sql`select used_at, expires_at from account_tokens where token_hash = ${sha256(token)}`
		)[0];
	const resetTokens = async (email: string) =>
		Number(
			(
				await app.sql`select count(*) as n from account_tokens t join users u on u.id = t.user_id
					where u.email = ${email} and t.purpose = 'reset'`
			)[0]!.n
		);

	beforeAll(async () => {
		app = await start({ ACCOUNT_EMAIL_RATE_LIMIT: String(RATE_LIMIT) });
		await register(MARKER);
	});

	it('resets the password through the mailed link: old sessions end, the new password works', async () => {
		const email = 'reset.flow@example.com';
		const first = await register(email);
		const second = app.client();
		expect((await second.post('/login', { email, password: PASSWORD })).status).toBe(303);
		for (const c of [first, second]) expect((await c.fetch('/api/me')).status).toBe(200);

		const link = await resetLink(email);
		const mail = mailbox.mails.at(-1)!;
		expect(link.origin).toBe(app.server.url);
		expect(mail.text).toContain('AI Coding Tutor');
		expect(mail.text).toContain('60 minutes');
		expect(mail.html).toContain(link.search.replace('?', '').replace(/&/g, '&amp;'));
		const token = link.searchParams.get('token')!;
		expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

		// Opening the link (twice, as a mail scanner and then the person) spends nothing.
		const browser = app.client();
		for (let i = 0; i < 2; i++) {
			const page = await browser.fetch(link.pathname + link.search);
			expect(page.status).toBe(200);
			expect(await page.text()).toContain('Set password and log in');
		}
		expect((await tokenRow(token))!.used_at).toBeNull();

		const res = await browser.post(link.pathname + link.search, {
			token,
			newPassword: NEW_PASSWORD,
			confirmPassword: NEW_PASSWORD
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/dashboard?notice=password-reset');
		const me = await browser.fetch('/api/me');
		expect(me.status).toBe(200);
		expect(JSON.stringify(await me.json())).toContain(email);
		expect(await (await browser.fetch('/dashboard?notice=password-reset')).text()).toContain(
			'Your new password is set'
		);

		for (const c of [first, second]) expect((await c.fetch('/api/me')).status).toBe(401);
		expect((await login(email, PASSWORD)).status).toBe(400);
		expect((await login(email, NEW_PASSWORD)).status).toBe(303);

		const [user] = await app.sql`select id, email_verified_at from users where email = ${email}`;
		expect(user!.email_verified_at).not.toBeNull();
		const audited =
			await app.sql`select 1 from audit_log where actor_id = ${user!.id} and action = 'account.password_reset'`;
		expect(audited).toHaveLength(1);
		// Nothing in the audit entry or the log names the token.
		expect(app.server.logs()).not.toContain(token);

		// The link works once; opening it again says so.
		const again = await app.client().post(link.pathname + link.search, {
			token,
			newPassword: 'yet another long password',
			confirmPassword: 'yet another long password'
		});
		expect(again.status).toBe(400);
		expect(await again.text()).toContain(SPENT);
		expect(await (await app.client().fetch(link.pathname + link.search)).text()).toContain(SPENT);
		expect((await login(email, NEW_PASSWORD)).status).toBe(303);
	});

	it('refuses an expired link and leaves the password alone', async () => {
		const email = 'expired@example.com';
		await register(email);
		const link = await resetLink(email);
		const token = link.searchParams.get('token')!;
		await app.sql`update account_tokens set expires_at = now() - interval '1 second' where token_hash = ${sha256(token)}`;
		const res = await app.client().post(link.pathname + link.search, {
			token,
			newPassword: NEW_PASSWORD,
			confirmPassword: NEW_PASSWORD
		});
		expect(res.status).toBe(400);
		expect(await res.text()).toContain(SPENT);
		expect((await login(email, NEW_PASSWORD)).status).toBe(400);
		expect((await login(email, PASSWORD)).status).toBe(303);
	});

	it('a new reset link spends the older ones', async () => {
		const email = 'twice@example.com';
		await register(email);
		const older = (await resetLink(email)).searchParams.get('token')!;
		const newer = (await resetLink(email)).searchParams.get('token')!;
		const form = (token: string) => ({
			token,
			newPassword: NEW_PASSWORD,
			confirmPassword: NEW_PASSWORD
		});
		expect((await app.client().post('/reset-password', form(older))).status).toBe(400);
		expect((await app.client().post('/reset-password', form(newer))).status).toBe(303);
	});

	it('spends a link once when two requests race with it', async () => {
		const email = 'racing@example.com';
		await register(email);
		const link = await resetLink(email);
		const token = link.searchParams.get('token')!;
		const attempt = (password: string) =>
			app.client().post(link.pathname + link.search, {
				token,
				newPassword: password,
				confirmPassword: password
			});
		const statuses = (await Promise.all([attempt(NEW_PASSWORD), attempt('the other new password')]))
			.map((r) => r.status)
			.sort();
		expect(statuses).toEqual([303, 400]);
	});

	it('sends a disabled account no link, and audits the request of an enabled one', async () => {
		const disabled = 'disabled@example.com';
		await register(disabled);
		await app.sql`update users set disabled_at = now() where email = ${disabled}`;
		expect((await app.client().post('/forgot-password', { email: disabled })).status).toBe(200);
		// A later mail went out after any the disabled account's request could have sent.
		await resetLink(MARKER);
		expect(mailbox.mails.filter((m) => m.to.includes(disabled))).toHaveLength(1); // registration
		expect(await resetTokens(disabled)).toBe(0);
		const [requested] =
			await app.sql`select count(*) as n from audit_log a join users u on u.id = a.actor_id
			where u.email = ${MARKER} and a.action = 'account.password_reset_requested'`;
		expect(Number(requested!.n)).toBeGreaterThan(0);
	});

	it('answers an unknown address exactly as a known one', async () => {
		const known = 'known@example.com';
		await register(known);
		const answers = [];
		for (const email of [known, 'nobody.here@example.com']) {
			const json = await postAction(app.client(), '/forgot-password', { email });
			const html = await app.client().post('/forgot-password', { email });
			answers.push({
				status: [json.status, html.status],
				json: await json.text(),
				// Each page carries its own CSP nonce; everything else must match.
				html: (await html.text()).replace(/nonce="[^"]*"/g, 'nonce=""')
			});
		}
		expect(answers[0]!.status).toEqual([200, 200]);
		expect(answers[1]).toEqual(answers[0]);
		expect(answers[0]!.html).toContain('If an account uses that address');
		expect((await mailbox.next(known)).subject).toContain('Reset');
		expect((await mailbox.next(known)).subject).toContain('Reset');
		expect(mailbox.mails.some((m) => m.to.includes('nobody.here@example.com'))).toBe(false);
	});

	it('limits mails per address: 429 beyond the limit, and no mail for it', async () => {
		const email = 'limited@example.com';
		await register(email);
		for (let i = 0; i < RATE_LIMIT; i++)
			expect((await app.client().post('/forgot-password', { email })).status).toBe(200);
		const refused = await app.client().post('/forgot-password', { email });
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
		for (let i = 0; i < RATE_LIMIT; i++) await mailbox.next(email);
		// A later mail to another account went out after any the refused request could have sent.
		await resetLink(MARKER);
		expect(
			mailbox.mails.filter((m) => m.to.includes(email) && /Reset/.test(m.subject))
		).toHaveLength(RATE_LIMIT);
		expect(await resetTokens(email)).toBe(RATE_LIMIT);
	});

	it('limits requests per client address to ten times the per-address limit', async () => {
		const email = 'shared.room@example.com';
		await register(email);
		const room = app.client('10.99.0.1');
		for (let i = 0; i < RATE_LIMIT * 10; i++)
			expect((await room.post('/forgot-password', { email: `pupil${i}@example.com` })).status).toBe(
				200
			);
		expect((await room.post('/forgot-password', { email })).status).toBe(429);
		// The same address from another client still gets its mail, and only that one.
		await resetLink(email);
		expect(
			mailbox.mails.filter((m) => m.to.includes(email) && /Reset/.test(m.subject))
		).toHaveLength(1);
		expect(await resetTokens(email)).toBe(1);
	});

	it('turns away bad input with 400 and changes nothing', async () => {
		const email = 'careful@example.com';
		await register(email);
		const token = (await resetLink(email)).searchParams.get('token')!;
		const c = app.client();
		const reset = (fields: Record<string, string>) => c.post('/reset-password', fields);
		const good = { token, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD };
		for (const fields of [
			{ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
			{ ...good, token: token + 'x'.repeat(5000) },
			{ ...good, token: token.slice(0, 20) },
			{ ...good, newPassword: 'short', confirmPassword: 'short' },
			{ ...good, confirmPassword: 'not the same password' },
			{ ...good, token: 'A'.repeat(43) }
		])
			expect((await reset(fields)).status).toBe(400);
		expect((await tokenRow(token))!.used_at).toBeNull();
		expect((await login(email, PASSWORD)).status).toBe(303);

		for (const path of [
			'/reset-password',
			'/reset-password?token=' + 'x'.repeat(5000),
			'/verify-email',
			'/verify-email?token=short'
		])
			expect((await c.fetch(path)).status).toBe(400);
		expect((await c.post('/verify-email', { token: 'not a token' })).status).toBe(400);
		expect((await c.post('/forgot-password', { email: 'not an address' })).status).toBe(400);
		expect(
			(await c.post('/forgot-password', { email: 'x'.repeat(300) + '@example.com' })).status
		).toBe(400);
	});

	it('verifies the address through the mailed link, once', async () => {
		const email = 'verify.me@example.com';
		const c = app.client();
		expect(
			(await c.post('/register', { email, displayName: 'Vi', password: PASSWORD })).status
		).toBe(303);
		const link = linkIn(await mailbox.next(email), '/verify-email');
		expect(await (await c.fetch('/account')).text()).toContain('Not confirmed');

		const page = await c.fetch(link.pathname + link.search);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('Confirm my email');
		const [before] = await app.sql`select email_verified_at from users where email = ${email}`;
		expect(before!.email_verified_at).toBeNull();

		const token = link.searchParams.get('token')!;
		const res = await c.post(link.pathname + link.search, { token });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Your email address is confirmed');
		expect(await (await c.fetch('/account')).text()).toContain('Confirmed');
		const [user] = await app.sql`select id, email_verified_at from users where email = ${email}`;
		expect(user!.email_verified_at).not.toBeNull();
		expect(
			await app.sql`select 1 from audit_log where actor_id = ${user!.id} and action = 'account.email_verified'`
		).toHaveLength(1);
		expect((await c.post(link.pathname + link.search, { token })).status).toBe(400);
		// Confirmed already: no link to send.
		expect((await c.post('/account?/sendVerification', {})).status).toBe(400);
	});

	it('sends a new link from the account page; it does not confirm an address the account left', async () => {
		const email = 'moving@example.com';
		const c = await register(email);
		expect((await c.post('/account?/sendVerification', {})).status).toBe(200);
		const token = linkIn(await mailbox.next(email), '/verify-email').searchParams.get('token')!;
		await app.sql`update users set email = 'moved@example.com' where email = ${email}`;
		const res = await c.post('/verify-email', { token });
		expect(res.status).toBe(400);
		const [user] =
			await app.sql`select email_verified_at from users where email = 'moved@example.com'`;
		expect(user!.email_verified_at).toBeNull();
	});

	it('limits verification links per account', async () => {
		const email = 'impatient@example.com';
		const c = await register(email); // the registration's mail is the first of the limit
		for (let i = 1; i < RATE_LIMIT; i++) {
			expect((await c.post('/account?/sendVerification', {})).status).toBe(200);
			await mailbox.next(email);
		}
		const refused = await c.post('/account?/sendVerification', {});
		expect(refused.status).toBe(429);
		expect(await refused.text()).toContain('Too many attempts');
	});

	describe('who may open the new pages', () => {
		let student: Client;
		let admin: Client;
		const unknownToken = 'B'.repeat(43);
		beforeAll(async () => {
			student = await register('authz.student@example.com');
			admin = await register(ADMIN);
			await claimAdmin(admin);
		});
		const matrix: [string, string, Record<string, string> | null, number, number, number][] = [
			// method path, form (null for GET), anonymous, student, admin
			['GET', '/forgot-password', null, 200, 200, 200],
			['GET', `/reset-password?token=${unknownToken}`, null, 200, 200, 200],
			['GET', '/reset-password', null, 400, 400, 400],
			['GET', '/verify-email?sent=1', null, 200, 200, 200],
			['GET', `/verify-email?token=${unknownToken}`, null, 200, 200, 200],
			['POST', '/forgot-password', { email: 'nobody.else@example.com' }, 200, 200, 200],
			[
				'POST',
				'/reset-password',
				{ token: unknownToken, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
				400,
				400,
				400
			],
			['POST', '/verify-email', { token: unknownToken }, 400, 400, 400],
			['GET', '/account', null, 303, 200, 200],
			['POST', '/account?/sendVerification', {}, 401, 200, 200]
		];
		it.each(matrix)(
			'%s %s: anonymous %i, student %i, admin %i',
			async (method, path, form, ...want) => {
				const got = [];
				for (const c of [app.client(), student, admin])
					got.push((method === 'GET' ? await c.fetch(path) : await c.post(path, form!)).status);
				expect(got).toEqual(want);
				if (path === '/account?/sendVerification')
					for (const to of ['authz.student@example.com', ADMIN]) await mailbox.next(to);
			}
		);

		it('refuses a form posted from another site', async () => {
			for (const path of ['/forgot-password', '/reset-password', '/verify-email'])
				expect(
					(
						await app
							.client()
							.post(path, { email: 'x@example.com' }, { origin: 'https://evil.example' })
					).status
				).toBe(403);
		});
	});
});

describe.skipIf(!TEST_DATABASE_URL)('with REQUIRE_EMAIL_VERIFICATION', () => {
	let app: App;
	beforeAll(async () => {
		// Limits out of the way: the timing test asks for the same address many times.
		app = await start({
			REQUIRE_EMAIL_VERIFICATION: 'true',
			ACCOUNT_EMAIL_RATE_LIMIT: '1000'
		});
	});

	it('signs a new account in only once its address is confirmed', async () => {
		const email = 'must.confirm@example.com';
		const c = app.client();
		const res = await c.post('/register', { email, displayName: 'Mo', password: PASSWORD });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/verify-email?sent=1');
		expect((await c.fetch('/api/me')).status).toBe(401);
		expect(await (await c.fetch('/verify-email?sent=1')).text()).toContain('Check your inbox');
		await mailbox.next(email);

		expect((await c.post('/login', { email, password: 'the wrong password!' })).status).toBe(400);
		const refused = await c.post('/login', { email, password: PASSWORD });
		expect(refused.status).toBe(403);
		expect(await refused.text()).toContain('Confirm your email first; we sent a new link');
		expect((await c.fetch('/api/me')).status).toBe(401);
		// The wrong password sent nothing: the next mail is the one the refused login sent.
		const link = linkIn(await mailbox.next(email), '/verify-email');
		expect(mailbox.mails.filter((m) => m.to.includes(email))).toHaveLength(2);

		const token = link.searchParams.get('token')!;
		expect((await c.post(link.pathname + link.search, { token })).status).toBe(200);
		const ok = await c.post('/login', { email, password: PASSWORD });
		expect(ok.status).toBe(303);
		expect((await c.fetch('/api/me')).status).toBe(200);
	});

	it('answers known and unknown addresses in the same time', async () => {
		const known = 'timing.known@example.com';
		const unknown = 'timing.unknown@example.com';
		await app.client().post('/register', { email: known, displayName: 'Ti', password: PASSWORD });
		await mailbox.next(known);
		const c = app.client();
		const ask = async (email: string) => {
			const started = performance.now();
			const res = await postAction(c, '/forgot-password', { email });
			const body = await res.text();
			return { ms: performance.now() - started, status: res.status, body };
		};
		for (let i = 0; i < 3; i++) {
			await ask(unknown);
			await ask(known);
			await mailbox.next(known);
		}
		const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
		const bodies = new Set<string>();
		for (let round = 0; round < 15; round++) {
			// Alternate who goes first, so neither always follows the other's background work.
			const order = round % 2 ? [known, unknown] : [unknown, known];
			for (const email of order) {
				const r = await ask(email);
				expect(r.status).toBe(200);
				bodies.add(r.body);
				times[email === known ? 'known' : 'unknown'].push(r.ms);
			}
			await mailbox.next(known);
		}
		const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
		const k = median(times.known);
		const u = median(times.unknown);
		console.log(
			`forgot-password median over 15 each: known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms, difference ${(k - u).toFixed(2)} ms`
		);
		expect(bodies.size).toBe(1);
		expect(Math.abs(k - u)).toBeLessThan(Math.max(15, 0.5 * Math.min(k, u)));
	});
});
