import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import {
	ChangePasswordSchema,
	DeleteAccountSchema,
	LoginSchema,
	RegisterSchema,
	RenameSchema,
	fieldErrors
} from './account.ts';

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

	it('renames with the rules of registration', () => {
		expect(v.parse(RenameSchema, { displayName: ' Grace ' })).toEqual({ displayName: 'Grace' });
		for (const displayName of ['', '  ', 'x'.repeat(81), 'tab\tname', undefined]) {
			const r = v.safeParse(RenameSchema, { displayName });
			expect(r.success, JSON.stringify(displayName)).toBe(false);
			expect(fieldErrors(r.issues!).displayName).toBeTruthy();
		}
	});

	it('deletion needs the typed email; the password may be absent (accounts without one)', () => {
		expect(v.parse(DeleteAccountSchema, { confirmEmail: ' Ada@Example.com ' })).toEqual({
			confirmEmail: 'ada@example.com',
			currentPassword: ''
		});
		const r = v.safeParse(DeleteAccountSchema, {
			currentPassword: 'p'.repeat(129),
			confirmEmail: undefined // as formFields reads a missing field
		});
		const errors = fieldErrors(r.issues!);
		expect(errors.confirmEmail).toMatch(/Type your email address/);
		expect(errors.currentPassword).toMatch(/at most 128/);
	});
});
