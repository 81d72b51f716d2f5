/**
 * Outgoing mail through the configured SMTP server (SMTP_HOST and friends): budget alerts, password
 * reset and email verification links. A transport per mail: they are rare, and nothing stays open.
 *
 * @example
 * await mail.send(config.smtp, { to: 'sam@example.com', subject: 'Hello', text: 'Hi Sam' });
 */
import nodemailer from 'nodemailer';
import type { Smtp } from '#lib/server/config/types.ts';

export interface Message {
	to: string | string[];
	subject: string;
	text: string;
	/** A simple HTML version; mail clients show it instead of the text when they can. */
	html?: string;
}

export async function send(smtp: Smtp, message: Message) {
	const transport = nodemailer.createTransport({
		host: smtp.host,
		port: smtp.port,
		secure: smtp.secure,
		...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
		connectionTimeout: 10_000,
		greetingTimeout: 10_000,
		socketTimeout: 15_000
	});
	try {
		await transport.sendMail({
			from: smtp.from,
			to: Array.isArray(message.to) ? message.to.join(', ') : message.to,
			subject: message.subject,
			text: message.text,
			...(message.html ? { html: message.html } : {})
		});
	} finally {
		transport.close();
	}
}

/** Text made safe to place in HTML, attributes included. */
export function escapeHtml(text: string): string {
	return text.replace(
		/[&<>"']/g,
		(ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!
	);
}
