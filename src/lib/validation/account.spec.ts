import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { ChangePasswordSchema, LoginSchema, RegisterSchema, fieldErrors } from './account.ts';

describe('account schemas', () => {
	it('normalises a valid registration', () => {
		const out = v.parse(RegisterSchema, {
			email: '  Ada@Example.COM ',
			displayName: ' Ada ',
			password: 'correct horse battery'
		});
		expect(out).toEqual({
			email: 'ada@example.com',
			displayName: 'Ada',
			password: 'correct horse battery'
		});
	});

	it('gives a readable message per field', () => {
		const r = v.safeParse(RegisterSchema, { email: 'nope', displayName: '', password: 'short' });
		expect(r.success).toBe(false);
		const errors = fieldErrors(r.issues!);
		expect(errors.email).toMatch(/email address like/);
		expect(errors.displayName).toMatch(/Enter a display name/);
		expect(errors.password).toMatch(/at least 10 characters/);
	});

	it('refuses oversized and control-character input', () => {
		const r = v.safeParse(RegisterSchema, {
			email: 'a'.repeat(300) + '@example.com',
			displayName: 'bad\u0000name',
			password: 'p'.repeat(129)
		});
		const errors = fieldErrors(r.issues!);
		expect(errors.email).toMatch(/at most 254/);
		expect(errors.displayName).toMatch(/letters, numbers/);
		expect(errors.password).toMatch(/at most 128/);
	});

	it('refuses non-string values', () => {
		expect(v.safeParse(LoginSchema, { email: 42, password: ['x'] }).success).toBe(false);
	});

	it('requires the new passwords to match', () => {
		const r = v.safeParse(ChangePasswordSchema, {
			currentPassword: 'old password 1',
			newPassword: 'new password 12',
			confirmPassword: 'new password 13'
		});
		expect(fieldErrors(r.issues!).confirmPassword).toMatch(/do not match/);
	});
});
