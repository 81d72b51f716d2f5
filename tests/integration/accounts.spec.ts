import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import * as adminSetup from '../../src/lib/server/admin/setup.ts';
import * as accounts from '../../src/lib/server/auth/accounts.ts';
import { schema } from '../../src/lib/server/db/index.ts';
import { testConfig } from '../helpers/config.ts';
import { drivers, openTestDatabase, type TestDatabase } from '../helpers/db.ts';

const client = { ip: '203.0.113.7', userAgent: 'vitest' };

describe.each(drivers)('accounts on %s', (driver) => {
	let t: TestDatabase;
	let deps: accounts.Deps;
	beforeAll(async () => {
		t = await openTestDatabase(driver);
		deps = {
			db: t.database.db,
			config: testConfig({ ADMIN_EMAIL: 'teacher@example.com', REFRESH_REUSE_GRACE_SECONDS: '0' })
		};
	});
	afterAll(() => t?.drop());

	const login = (email: string, password = 'a good long password', d: accounts.Deps = deps) =>
		accounts.login(d, { email, password }, client);
	const register = (email: string, password = 'a good long password') =>
		accounts.register(deps, { email, displayName: email.split('@')[0]!, password }, client);

	it('registers, stores an argon2id hash and refuses a duplicate email', async () => {
		const r = await register('ada@example.com');
		expect(r.ok).toBe(true);
		const [row] = await deps.db
			.select()
			.from(schema.users)
			.where(eq(schema.users.email, 'ada@example.com'));
		expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
		expect(row!.passwordHash).not.toContain('a good long password');
		const again = await register('ada@example.com');
		expect(again).toMatchObject({ ok: false, status: 409, field: 'email' });
	});

	it('an ADMIN_EMAIL account becomes admin only with the one-time setup code', async () => {
		const code = await adminSetup.prepare(deps.db, deps.config);
		expect(code).toMatch(/^[\w-]{20}$/);
		// A second start (another replica) prints the same code.
		expect(await adminSetup.prepare(deps.db, deps.config)).toBe(code);
		const admin = await register('teacher@example.com');
		const student = await register('bob@example.com');
		if (!admin.ok || !student.ok) throw new Error('register failed');
		expect(admin.session.user.role).toBe('student');
		expect(student.session.user.role).toBe('student');
		const as = (r: typeof admin) => ({ ...r.session.user, role: 'student' });
		expect(await adminSetup.claim(deps, as(student), code!, client)).toMatchObject({ status: 403 });
		expect(await adminSetup.claim(deps, as(admin), 'wrong-code-000000000', client)).toMatchObject({
			status: 400
		});
		expect(await adminSetup.claim(deps, as(admin), code!, client)).toEqual({ ok: true });
		const again = await login('teacher@example.com');
		expect(again.ok && again.session.user.role).toBe('admin');
		// Spent: nobody can use it again, and no new code is made once an admin exists.
		expect(await adminSetup.claim(deps, as(admin), code!, client)).toMatchObject({ status: 403 });
		expect(await adminSetup.prepare(deps.db, deps.config)).toBeNull();
	});

	it('logs in with the right password only, with one message for unknown email and wrong password', async () => {
		const good = await login('ada@example.com');
		expect(good.ok).toBe(true);
		const wrong = await login('ada@example.com', 'nope nope nope');
		const unknown = await login('ghost@example.com', 'nope nope nope');
		expect(wrong).toMatchObject({ ok: false, status: 400 });
		expect(unknown).toMatchObject({ ok: false, status: 400 });
		expect(!wrong.ok && wrong.message).toBe(!unknown.ok && unknown.message);
	});

	it('rotates refresh tokens, and reuse of a spent one revokes the whole family', async () => {
		const signedIn = await login('ada@example.com');
		if (!signedIn.ok) throw new Error('login failed');
		const first = signedIn.session.refreshToken;
		const r1 = await accounts.rotate(deps, first, client);
		expect(r1.kind).toBe('rotated');
		if (r1.kind !== 'rotated') return;
		const second = r1.session.refreshToken;
		expect(second).not.toBe(first);
		// The stolen first token is replayed: the family dies, including the legitimate second token.
		expect((await accounts.rotate(deps, first, client)).kind).toBe('invalid');
		expect((await accounts.rotate(deps, second, client)).kind).toBe('invalid');
		const audit = await deps.db
			.select()
			.from(schema.auditLog)
			.where(eq(schema.auditLog.action, 'account.refresh_reuse_detected'));
		expect(audit.length).toBe(1);
		// Other sessions of the same user are untouched.
		const other = await login('ada@example.com');
		expect(other.ok && (await accounts.rotate(deps, other.session.refreshToken, client)).kind).toBe(
			'rotated'
		);
	});

	it('treats a parallel refresh within the grace window as a race, not theft', async () => {
		const graceDeps = { ...deps, config: testConfig({ REFRESH_REUSE_GRACE_SECONDS: '30' }) };
		const signedIn = await login('ada@example.com', undefined, graceDeps);
		if (!signedIn.ok) throw new Error('login failed');
		const outcomes = await Promise.all([
			accounts.rotate(graceDeps, signedIn.session.refreshToken, client),
			accounts.rotate(graceDeps, signedIn.session.refreshToken, client)
		]);
		expect(outcomes.map((o) => o.kind).sort()).toEqual(['raced', 'rotated']);
		const winner = outcomes.find((o) => o.kind === 'rotated');
		expect(
			winner?.kind === 'rotated' &&
				(await accounts.rotate(graceDeps, winner.session.refreshToken, client)).kind
		).toBe('rotated');
	});

	it('logout revokes this session only; logout everywhere kills every refresh and access token', async () => {
		await register('cy@example.com');
		const a = await login('cy@example.com');
		const b = await login('cy@example.com');
		if (!a.ok || !b.ok) throw new Error('login failed');
		expect(await accounts.userFromAccessToken(deps, a.session.accessToken)).not.toBeNull();
		await accounts.logout(deps, { refreshToken: a.session.refreshToken });
		expect((await accounts.rotate(deps, a.session.refreshToken, client)).kind).toBe('invalid');
		// This session's access token ends at once; the other sign-in is untouched.
		expect(await accounts.userFromAccessToken(deps, a.session.accessToken)).toBeNull();
		expect(await accounts.userFromAccessToken(deps, b.session.accessToken)).not.toBeNull();

		await accounts.logoutEverywhere(deps, b.session.user.id, client);
		expect(await accounts.userFromAccessToken(deps, b.session.accessToken)).toBeNull();
		expect((await accounts.rotate(deps, b.session.refreshToken, client)).kind).toBe('invalid');
	});

	it('changes the password: old one stops working, other sessions end, this one continues', async () => {
		await register('dee@example.com');
		const other = await login('dee@example.com');
		if (!other.ok) throw new Error('login failed');
		const bad = await accounts.changePassword(
			deps,
			other.session.user.id,
			{ currentPassword: 'wrong password!', newPassword: 'a brand new password' },
			client
		);
		expect(bad).toMatchObject({ ok: false, field: 'currentPassword' });
		const changed = await accounts.changePassword(
			deps,
			other.session.user.id,
			{ currentPassword: 'a good long password', newPassword: 'a brand new password' },
			client
		);
		expect(changed.ok).toBe(true);
		expect(await accounts.userFromAccessToken(deps, other.session.accessToken)).toBeNull();
		expect(
			changed.ok && (await accounts.userFromAccessToken(deps, changed.session.accessToken))
		).toMatchObject({
			email: 'dee@example.com'
		});
		expect((await login('dee@example.com')).ok).toBe(false);
		expect((await login('dee@example.com', 'a brand new password')).ok).toBe(true);
	});

	it('refuses disabled accounts at login and for existing tokens', async () => {
		const r = await register('eve@example.com');
		if (!r.ok) throw new Error('register failed');
		await deps.db
			.update(schema.users)
			.set({ disabledAt: new Date() })
			.where(eq(schema.users.id, r.session.user.id));
		expect(await accounts.userFromAccessToken(deps, r.session.accessToken)).toBeNull();
		expect(await login('eve@example.com')).toMatchObject({
			ok: false,
			status: 403
		});
		expect((await accounts.rotate(deps, r.session.refreshToken, client)).kind).toBe('invalid');
	});

	it('rate limits login per account, with a retry time', async () => {
		const limited = { ...deps, config: testConfig({ LOGIN_RATE_LIMIT: '3' }) };
		const attempt = () =>
			accounts.login(
				limited,
				{ email: 'target@example.com', password: 'guess guess guess' },
				client
			);
		const results = [];
		for (let i = 0; i < 5; i++) results.push(await attempt());
		expect(results.map((r) => (r.ok ? 200 : r.status))).toEqual([400, 400, 400, 429, 429]);
		const last = results[4]!;
		expect(!last.ok && last.retryAfterSeconds).toBeGreaterThan(0);
	});
});
