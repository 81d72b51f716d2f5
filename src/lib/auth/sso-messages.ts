/**
 * What the login and account pages say after a single sign-on round trip. The callback redirects
 * with a code, never with text, so nothing from the URL is shown as a message.
 *
 * @example
 * const text = ssoMessage(url.searchParams.get('sso'), 'Google'); // null for an unknown code
 */
const MESSAGES = {
	failed: (p: string) => `Signing in with ${p} did not complete. Please try again.`,
	unavailable: (p: string) =>
		`${p} cannot be reached right now. Try again in a minute, or log in with your password.`,
	expired: (p: string) =>
		`The sign-in with ${p} took too long or was started in another browser. Please try again.`,
	cancelled: (p: string) => `Signing in with ${p} was cancelled.`,
	unverified: (p: string) =>
		`${p} did not confirm your email address, so it cannot sign you in here. Log in with your password, then link ${p} on your account page.`,
	disabled: () => 'This account is disabled. Contact your teacher.',
	taken: (p: string) => `This ${p} account is already linked to another account.`,
	mismatch: (p: string) =>
		`That ${p} account is not linked to yours. Sign in again with the account you linked.`,
	linked: (p: string) => `${p} is linked: you can now sign in with it.`,
	reauthenticated: (p: string) => `Signed in again with ${p}. You can delete the account now.`
} as const;

export type SsoCode = keyof typeof MESSAGES;

export function ssoMessage(code: string | null, provider: string): string | null {
	return code && Object.hasOwn(MESSAGES, code) ? MESSAGES[code as SsoCode](provider) : null;
}
