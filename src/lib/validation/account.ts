/**
 * Account form schemas, shared by the server (authoritative) and the browser (instant feedback).
 *
 * @example
 * const result = v.safeParse(RegisterSchema, Object.fromEntries(formData));
 */
import * as v from 'valibot';

export const LIMITS = {
	emailMax: 254,
	nameMax: 80,
	passwordMin: 10,
	// argon2 cost grows with input; nobody types more than this.
	passwordMax: 128
} as const;

const email = v.pipe(
	v.string('Enter your email address.'),
	v.trim(),
	v.nonEmpty('Enter your email address.'),
	v.maxLength(LIMITS.emailMax, `An email address has at most ${LIMITS.emailMax} characters.`),
	v.email('Enter an email address like name@example.com.'),
	v.toLowerCase()
);

const newPassword = v.pipe(
	v.string('Choose a password.'),
	v.nonEmpty('Choose a password.'),
	v.minLength(LIMITS.passwordMin, `Use at least ${LIMITS.passwordMin} characters.`),
	v.maxLength(LIMITS.passwordMax, `Use at most ${LIMITS.passwordMax} characters.`)
);

const anyPassword = v.pipe(
	v.string('Enter your password.'),
	v.nonEmpty('Enter your password.'),
	v.maxLength(LIMITS.passwordMax, `A password has at most ${LIMITS.passwordMax} characters.`)
);

const displayName = v.pipe(
	v.string('Enter a display name.'),
	v.trim(),
	v.nonEmpty('Enter a display name.'),
	v.maxLength(LIMITS.nameMax, `A display name has at most ${LIMITS.nameMax} characters.`),
	// Control characters break layouts and logs.
	v.regex(/^[^\p{Cc}\p{Cf}]+$/u, 'Use letters, numbers, spaces and punctuation only.')
);

export const RegisterSchema = v.object({ email, displayName, password: newPassword });

export const RenameSchema = v.object({ displayName });

/** Deleting one's own account: the typed email always; the password when the account has one. */
export const DeleteAccountSchema = v.object({
	currentPassword: v.optional(
		v.pipe(
			v.string(),
			v.maxLength(LIMITS.passwordMax, `A password has at most ${LIMITS.passwordMax} characters.`)
		),
		''
	),
	confirmEmail: v.pipe(
		v.string('Type your email address to confirm.'),
		v.trim(),
		v.nonEmpty('Type your email address to confirm.'),
		v.maxLength(LIMITS.emailMax, `An email address has at most ${LIMITS.emailMax} characters.`),
		v.toLowerCase()
	)
});

export const LoginSchema = v.object({ email, password: anyPassword });

export const ChangePasswordSchema = v.pipe(
	v.object({
		currentPassword: anyPassword,
		newPassword,
		confirmPassword: v.string('Repeat the new password.')
	}),
	v.forward(
		v.partialCheck(
			[['newPassword'], ['confirmPassword']],
			(i) => i.newPassword === i.confirmPassword,
			'The two new passwords do not match.'
		),
		['confirmPassword']
	)
);

/** A reset or verification link's token: 32 random bytes, base64url (auth/recovery.ts). */
export const linkToken = v.pipe(
	v.string('This link is incomplete. Open it again from the email.'),
	v.regex(/^[A-Za-z0-9_-]{43}$/, 'This link is incomplete. Open it again from the email.')
);

export const ForgotPasswordSchema = v.object({ email });

export const ResetPasswordSchema = v.pipe(
	v.object({
		token: linkToken,
		newPassword,
		confirmPassword: v.string('Repeat the new password.')
	}),
	v.forward(
		v.partialCheck(
			[['newPassword'], ['confirmPassword']],
			(i) => i.newPassword === i.confirmPassword,
			'The two new passwords do not match.'
		),
		['confirmPassword']
	)
);

export const VerifyEmailSchema = v.object({ token: linkToken });

export type FieldErrors = Partial<Record<string, string>>;

/** First message per field, for inline errors next to each input. */
export function fieldErrors(issues: v.BaseIssue<unknown>[]): FieldErrors {
	const errors: FieldErrors = {};
	for (const issue of issues) {
		const key = issue.path?.map((p) => String(p.key)).join('.') ?? 'form';
		errors[key] ??= issue.message;
	}
	return errors;
}

/** Reads only string fields from a form; files and repeated fields are not accepted here. */
export function formFields(data: FormData, names: readonly string[]): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const name of names) {
		const value = data.get(name);
		out[name] = typeof value === 'string' ? value : undefined;
	}
	return out;
}
