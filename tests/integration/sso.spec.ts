/**
 * Single sign-on end to end against a real OpenID Provider (oidc-provider on loopback) and the built
 * server: sign-up, sign-in, linking by verified email, linking from the account page,
 * re-authentication, and the attacks a callback must refuse.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailbox, type Mailbox } from '../fakes/mailbox.ts';
import { authorizeAt, startOidcProvider, type RunningProvider } from '../fakes/oidc.ts';
import { PASSWORD } from '../helpers/app.ts';
import { TEST_SECRET } from '../helpers/config.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import {
	ADMIN_SETUP_CODE,
	Client,
	claimAdmin,
	freePort,
	startServer,
	type RunningServer
} from '../helpers/server.ts';

const ADMIN = 'head@example.com';
let server: RunningServer;
let op: RunningProvider;
let otherOp: RunningProvider;
let sql: postgres.Sql;
let mailbox: Mailbox;
let callback: string;

const client = () => new Client(server.url, { 'x-forwarded-proto': 'http' });

/** Starts a sign-in in `c`, plays `login` at the provider and returns the callback URL it sends back. */
async function throughProvider(c: Client, login: string, start = '/auth/sso/school') {
	const res = await c.fetch(start);
	expect(res.status).toBe(303);
	const authorize = res.headers.get('location')!;
	expect(authorize.startsWith(op.issuer)).toBe(true);
	return authorizeAt(authorize, login);
}

async function back(c: Client, url: URL) {
	return c.fetch(url.pathname + url.search);
}

async function register(email: string) {
	const c = client();
	const res = await c.post('/register', {
		email,
		displayName: email.split('@')[0]!,
		password: PASSWORD
	});
	expect(res.status).toBe(303);
	return c;
}

describe.skipIf(!TEST_DATABASE_URL)('single sign-on with a real OpenID Provider', () => {
	beforeAll(async () => {
		const port = await freePort();
		callback = `http://127.0.0.1:${port}/auth/sso/school/callback`;
		const clients = [
			{ id: 'tutor', secret: 'tutor-secret', redirectUris: [callback] },
			{ id: 'evil', secret: 'evil-secret', redirectUris: ['http://127.0.0.1:9/evil'] }
		];
		op = await startOidcProvider({ clients });
		otherOp = await startOidcProvider({ clients });
		mailbox = await startMailbox();
		for (const p of [op, otherOp]) {
			p.accounts.set('ada', { email: 'ada@school.edu', email_verified: true, name: 'Ada L' });
			p.accounts.set('grace', { email: 'grace@example.com', email_verified: true, name: 'Grace' });
			p.accounts.set('mallory', { email: 'victim@example.com', email_verified: false });
		}
		server = await startServer({
			postgres: true,
			port,
			env: {
				ADMIN_EMAIL: ADMIN,
				ADMIN_SETUP_CODE,
				JWT_SECRET_KEY: TEST_SECRET,
				PROTOCOL_HEADER: 'x-forwarded-proto',
				LLM_PROVIDER: 'mock',
				OIDC_PROVIDERS: 'school',
				OIDC_SCHOOL_ISSUER: op.issuer,
				OIDC_SCHOOL_CLIENT_ID: 'tutor',
				OIDC_SCHOOL_CLIENT_SECRET: 'tutor-secret',
				OIDC_SCHOOL_LABEL: 'School ID',
				SMTP_HOST: '127.0.0.1',
				SMTP_PORT: String(mailbox.port)
			}
		});
		sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
	}, 60_000);
	afterAll(async () => {
		await sql?.end();
		await server?.stop();
		await server?.dropDatabase();
		await op?.close();
		await otherOp?.close();
		await mailbox?.close();
	});

	it('shows the provider on the login and register pages', async () => {
		for (const page of ['/login', '/register']) {
			const html = await (await client().fetch(page)).text();
			expect(html).toContain('href="/auth/sso/school"');
			expect(html).toContain('School ID');
		}
	});

	it('creates an account on the first sign-in and signs the same person in again', async () => {
		const c = client();
		const done = await back(c, await throughProvider(c, 'ada'));
		expect(done.status).toBe(303);
		expect(done.headers.get('location')).toBe('/dashboard');
		const me = await (await c.fetch('/api/me')).json();
		expect(me).toMatchObject({ email: 'ada@school.edu', displayName: 'Ada L' });
		const [row] =
			await sql`select password_hash, email_verified_at from users where email = 'ada@school.edu'`;
		expect(row!.password_hash).toBeNull();
		expect(row!.email_verified_at).not.toBeNull();

		const again = client();
		await back(again, await throughProvider(again, 'ada'));
		expect((await (await again.fetch('/api/me')).json()).id).toBe(me.id);
		const [{ n }] =
			(await sql`select count(*)::int as n from users where email = 'ada@school.edu'`) as [
				{ n: number }
			];
		expect(n).toBe(1);
	});

	it('links to an existing password account by verified email', async () => {
		const owner = await register('grace@example.com');
		const ownerId = (await (await owner.fetch('/api/me')).json()).id;
		const c = client();
		await back(c, await throughProvider(c, 'grace'));
		expect((await (await c.fetch('/api/me')).json()).id).toBe(ownerId);
		const audit =
			await sql`select action, detail from audit_log where actor_id = ${ownerId} and action = 'sso.link'`;
		expect(audit[0]!.detail).toMatchObject({ provider: 'school', by: 'verified_email' });
	});

	it('refuses an unverified email that matches an existing account, and creates nothing', async () => {
		const victim = await register('victim@example.com');
		const victimId = (await (await victim.fetch('/api/me')).json()).id;
		const c = client();
		const res = await back(c, await throughProvider(c, 'mallory'));
		expect(res.headers.get('location')).toBe('/login?sso=unverified&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
		const links = await sql`select 1 from user_identities where user_id = ${victimId}`;
		expect(links).toHaveLength(0);
		const html = await (await c.fetch('/login?sso=unverified&provider=school')).text();
		expect(html).toContain('did not confirm your email address');
	});

	it('refuses a disabled account, linking nothing to it', async () => {
		await register('disabled@example.com');
		await sql`update users set disabled_at = now() where email = 'disabled@example.com'`;
		op.accounts.set('dis', { email: 'disabled@example.com', email_verified: true });
		const c = client();
		const res = await back(c, await throughProvider(c, 'dis'));
		expect(res.headers.get('location')).toBe('/login?sso=disabled&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
		expect(await sql`select 1 from user_identities where subject = 'dis'`).toHaveLength(0);
	});

	it('refuses a callback with a wrong state, and a callback replayed', async () => {
		const c = client();
		const cb = await throughProvider(c, 'ada');
		const forged = new URL(cb);
		forged.searchParams.set('state', 'attacker-state');
		const refused = await back(c, forged);
		expect(refused.headers.get('location')).toBe('/login?sso=failed&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
		// The flow cookie was spent by that attempt: the genuine callback cannot be replayed after it.
		const replay = await back(c, cb);
		expect(replay.headers.get('location')).toBe('/login?sso=expired&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
	});

	it('refuses a callback carried to another browser (no flow cookie)', async () => {
		const cb = await throughProvider(client(), 'ada');
		const stranger = client();
		const res = await back(stranger, cb);
		expect(res.headers.get('location')).toBe('/login?sso=expired&provider=school');
		expect(stranger.cookies.has('tutor_at')).toBe(false);
	});

	it('refuses a code issued to another client of the same provider', async () => {
		const c = client();
		const start = await c.fetch('/auth/sso/school');
		const ours = new URL(start.headers.get('location')!);
		// The attacker's own client, authorised by the attacker, with our state spliced in.
		const theirs = new URL(ours);
		theirs.searchParams.set('client_id', 'evil');
		theirs.searchParams.set('redirect_uri', 'http://127.0.0.1:9/evil');
		const evil = await authorizeAt(theirs.href, 'grace');
		const injected = new URL(callback);
		injected.search = evil.search;
		const res = await back(c, injected);
		expect(res.headers.get('location')).toBe('/login?sso=failed&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
	});

	it('refuses a response from another issuer', async () => {
		const c = client();
		const start = await c.fetch('/auth/sso/school');
		const ours = new URL(start.headers.get('location')!);
		const elsewhere = new URL(ours.pathname + ours.search, otherOp.issuer);
		const foreign = await authorizeAt(elsewhere.href, 'grace');
		expect(foreign.searchParams.get('iss')).toBe(otherOp.issuer);
		const res = await back(c, foreign);
		expect(res.headers.get('location')).toBe('/login?sso=failed&provider=school');
		expect(c.cookies.has('tutor_at')).toBe(false);
	});

	it('never redirects off the site through the return address', async () => {
		for (const next of [
			'https://evil.example/x',
			'//evil.example',
			'/\\evil.example',
			'/%09/evil.example'
		]) {
			const c = client();
			const cb = await authorizeAt(
				(await c.fetch(`/auth/sso/school?next=${encodeURIComponent(next)}`)).headers.get(
					'location'
				)!,
				'ada'
			);
			const res = await back(c, cb);
			const location = res.headers.get('location')!;
			expect(new URL(location, server.url).origin).toBe(server.url);
			expect(location.startsWith('//')).toBe(false);
		}
		const c = client();
		const ok = await back(c, await throughProvider(c, 'ada', '/auth/sso/school?next=%2Fpractice'));
		expect(ok.headers.get('location')).toBe('/practice');
	});

	it('links a provider from the account page, refuses one linked elsewhere, and unlinks', async () => {
		const alan = await register('alan@example.com');
		const alanId = (await (await alan.fetch('/api/me')).json()).id;
		op.accounts.set('alan-sso', { email: 'alan.turing@other.example', email_verified: false });
		const linked = await back(
			alan,
			await throughProvider(alan, 'alan-sso', '/auth/sso/school?intent=link')
		);
		expect(linked.headers.get('location')).toBe('/account?sso=linked&provider=school');
		const [row] =
			await sql`select provider, subject from user_identities where user_id = ${alanId}`;
		expect(row).toMatchObject({ provider: 'school', subject: 'alan-sso' });
		expect(await (await alan.fetch('/account?sso=linked&provider=school')).text()).toContain(
			'School ID is linked'
		);

		// The same provider account cannot be linked to a second user.
		const other = await register('other@example.com');
		const taken = await back(
			other,
			await throughProvider(other, 'alan-sso', '/auth/sso/school?intent=link')
		);
		expect(taken.headers.get('location')).toBe('/account?sso=taken&provider=school');

		// Alan now signs in with it even though the provider never verified that email.
		const c = client();
		await back(c, await throughProvider(c, 'alan-sso'));
		expect((await (await c.fetch('/api/me')).json()).id).toBe(alanId);

		const res = await alan.post('/account?/unlinkProvider', { provider: 'school' });
		expect(res.status).toBe(200);
		expect(await sql`select 1 from user_identities where user_id = ${alanId}`).toHaveLength(0);
	});

	it('does not unlink the only way into a password-less account', async () => {
		const c = client();
		await back(c, await throughProvider(c, 'ada'));
		const res = await c.post('/account?/unlinkProvider', { provider: 'school' });
		expect(res.status).toBe(409);
		const [{ n }] =
			(await sql`select count(*)::int as n from user_identities i join users u on u.id = i.user_id where u.email = 'ada@school.edu'`) as [
				{ n: number }
			];
		expect(n).toBe(1);
	});

	it('re-authenticates only with an identity linked to the signed-in user', async () => {
		const ada = client();
		await back(ada, await throughProvider(ada, 'ada'));
		const ok = await back(ada, await throughProvider(ada, 'ada', '/auth/sso/school?intent=reauth'));
		expect(ok.headers.get('location')).toBe('/account?sso=reauthenticated&provider=school');
		expect(ada.cookies.has('tutor_reauth')).toBe(true);

		const other = client();
		await back(other, await throughProvider(other, 'ada'));
		other.cookies.delete('tutor_reauth');
		const wrong = await back(
			other,
			await throughProvider(other, 'grace', '/auth/sso/school?intent=reauth')
		);
		expect(wrong.headers.get('location')).toBe('/account?sso=mismatch&provider=school');
		expect(other.cookies.has('tutor_reauth')).toBe(false);
	});

	it('link and re-authenticate need a signed-in user; unknown providers and intents are refused', async () => {
		const anon = client();
		expect((await anon.fetch('/auth/sso/school?intent=link')).headers.get('location')).toContain(
			'/login'
		);
		expect((await anon.fetch('/auth/sso/school?intent=reauth')).headers.get('location')).toContain(
			'/login'
		);
		expect((await anon.fetch('/auth/sso/school?intent=steal')).status).toBe(400);
		expect((await anon.fetch('/auth/sso/nope')).status).toBe(404);
		expect((await anon.fetch('/auth/sso/nope/callback?code=x&state=y')).status).toBe(404);
	});

	it('lets the admin require single sign-on for a domain, which then refuses passwords', async () => {
		const admin = await register(ADMIN);
		await claimAdmin(admin);
		const student = await register('kid@school.edu');
		const denied = await student.post('/admin/sign-in', {
			ssoDomains: 'school.edu',
			passwordSignIn: 'on'
		});
		expect(denied.status).toBe(403);
		const bad = await admin.post('/admin/sign-in', {
			ssoDomains: 'not a domain',
			passwordSignIn: 'on'
		});
		expect(bad.status).toBe(400);
		const saved = await admin.post('/admin/sign-in', {
			ssoDomains: 'school.edu',
			passwordSignIn: 'on'
		});
		expect(saved.status).toBe(200);

		const login = await client().post('/login', { email: 'kid@school.edu', password: PASSWORD });
		expect(login.status).toBe(403);
		expect(await login.text()).toContain('Sign in with your school account');
		const signup = await client().post('/register', {
			email: 'new@school.edu',
			displayName: 'New',
			password: PASSWORD
		});
		expect(signup.status).toBe(403);
		expect(
			(await client().post('/login', { email: 'grace@example.com', password: PASSWORD })).status
		).toBe(303);
		// No reset link for an address kept to single sign-on; the answer is the same as for others.
		const kid = await client().post('/forgot-password', { email: 'kid@school.edu' });
		const grace = await client().post('/forgot-password', { email: 'grace@example.com' });
		expect([kid.status, grace.status]).toEqual([200, 200]);
		await mailbox.next('grace@example.com');
		const toKid = mailbox.mails.filter((m) => m.to.includes('kid@school.edu'));
		expect(toKid.filter((m) => /reset/i.test(m.subject))).toEqual([]);

		// Password sign-in off for everyone, except ADMIN_EMAIL accounts.
		await admin.post('/admin/sign-in', { ssoDomains: '' });
		expect(
			(await client().post('/login', { email: 'grace@example.com', password: PASSWORD })).status
		).toBe(403);
		expect((await client().post('/login', { email: ADMIN, password: PASSWORD })).status).toBe(303);
		const page = await (await client().fetch('/login')).text();
		expect(page).not.toContain('name="password"');
		await admin.post('/admin/sign-in', { ssoDomains: '', passwordSignIn: 'on' });
		const audit =
			await sql`select count(*)::int as n from audit_log where action = 'settings.sign_in_policy'`;
		expect(audit[0]!.n).toBe(3);
	});

	it('authorizes the new routes by audience', async () => {
		const student = await register('matrix@example.com');
		const admin = client();
		expect((await admin.post('/login', { email: ADMIN, password: PASSWORD })).status).toBe(303);
		const rows: [string, number, number, number][] = [
			// path, anonymous, student, admin
			['/admin/sign-in', 303, 403, 200],
			['/auth/sso/school', 303, 303, 303],
			['/auth/sso/school/callback', 303, 303, 303]
		];
		for (const [path, anon, stud, adm] of rows) {
			expect((await client().fetch(path)).status, `${path} anonymous`).toBe(anon);
			expect((await student.fetch(path)).status, `${path} student`).toBe(stud);
			expect((await admin.fetch(path)).status, `${path} admin`).toBe(adm);
		}
		expect(await (await admin.fetch('/admin/sign-in')).text()).toContain(callback);
	});

	it('deletes a password-less account only after signing in again with its provider', async () => {
		op.accounts.set('zoe', { email: 'zoe@school.edu', email_verified: true, name: 'Zoe' });
		const zoe = client();
		await back(zoe, await throughProvider(zoe, 'zoe'));
		const refused = await zoe.post('/account?/deleteAccount', { confirmEmail: 'zoe@school.edu' });
		expect(refused.status).toBe(401);
		expect(await sql`select 1 from users where email = 'zoe@school.edu'`).toHaveLength(1);
		await back(zoe, await throughProvider(zoe, 'zoe', '/auth/sso/school?intent=reauth'));
		const gone = await zoe.post('/account?/deleteAccount', { confirmEmail: 'zoe@school.edu' });
		expect(gone.status).toBe(303);
		expect(gone.headers.get('location')).toBe('/login?deleted=1');
		expect(await sql`select 1 from users where email = 'zoe@school.edu'`).toHaveLength(0);
		expect(await sql`select 1 from user_identities where subject = 'zoe'`).toHaveLength(0);
	});

	// Last: it spends this client address's allowance (ten times LOGIN_RATE_LIMIT per window).
	it('limits starts and callbacks per client address', async () => {
		let res: Response | undefined;
		for (let i = 0; i < 101; i++) {
			res = await client().fetch('/auth/sso/school');
			if (res.status === 429) break;
		}
		expect(res!.status).toBe(429);
		expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
		expect((await client().fetch('/auth/sso/school/callback?code=x&state=y')).status).toBe(429);
	});
});
