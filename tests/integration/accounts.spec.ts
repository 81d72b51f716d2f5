import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
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

	it('makes ADMIN_EMAIL accounts admins and everyone else a student', async () => {
		const admin = await register('teacher@example.com');
		const student = await register('bob@example.com');
		expect(admin.ok && admin.session.user.role).toBe('admin');
		expect(student.ok && student.session.user.role).toBe('student');
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
		await accounts.logout(deps, a.session.refreshToken);
		expect((await accounts.rotate(deps, a.session.refreshToken, client)).kind).toBe('invalid');
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
