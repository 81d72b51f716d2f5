/**
 * The two account mails: a password reset link and an email verification link. Only the product's
 * name, the link and how long it works: nothing a phishing copy could borrow, nothing about the
 * account.
 *
 * @example
 * await mail.send(smtp, resetMail('sam@example.com', link, 60));
 */
import { escapeHtml, type Message } from '#lib/server/mail.ts';

const PRODUCT = 'AI Coding Tutor';

function html(paragraphs: string[], link: string, label: string) {
	const p = (text: string) => `<p>${escapeHtml(text)}</p>`;
	const [first, ...rest] = paragraphs;
	return (
		`<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5">` +
		p(first!) +
		`<p><a href="${escapeHtml(link)}">${escapeHtml(label)}</a></p>` +
		rest.map(p).join('') +
		`</body></html>`
	);
}

export function resetMail(to: string, link: string, minutes: number): Message {
	const lines = [
		`Someone asked to reset the password of your ${PRODUCT} account. Open this link to choose a new one:`,
		`The link works once, for ${minutes} minutes. If you did not ask, ignore this email: your password stays as it is.`
	];
	return {
		to,
		subject: `Reset your ${PRODUCT} password`,
		text: `${lines[0]}\n\n${link}\n\n${lines[1]}\n`,
		html: html(lines, link, 'Choose a new password')
	};
}

export function verifyMail(to: string, link: string, hours: number): Message {
	const lines = [
		`Confirm that this is your email address for ${PRODUCT}:`,
		`The link works once, for ${hours} hours. If you did not create an account, ignore this email.`
	];
	return {
		to,
		subject: `Confirm your email for ${PRODUCT}`,
		text: `${lines[0]}\n\n${link}\n\n${lines[1]}\n`,
		html: html(lines, link, 'Confirm my email')
	};
}
