/**
 * A real SMTP server that keeps every mail it receives, for tests of what the app sends. `next(to)`
 * waits for the next mail to an address (event-based, no polling); mails that arrived before the
 * call are handed out first, oldest first, each once.
 *
 * @example
 * const mailbox = await startMailbox();        // env: SMTP_HOST=127.0.0.1, SMTP_PORT=mailbox.port
 * const mail = await mailbox.next('sam@example.com');
 * const link = linkIn(mail, '/reset-password');
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Mail {
	/** The envelope's sender and recipients (lower-cased): who it was really sent to. */
	from: string;
	to: string[];
	subject: string;
	text: string;
	html: string;
	receivedAt: Date;
}

export interface Mailbox {
	port: number;
	/** Every mail received, in order of arrival. */
	mails: Mail[];
	/** The next mail to `to` not handed out yet; waits for it if none has arrived. */
	next(to: string, timeoutMs?: number): Promise<Mail>;
	close(): Promise<void>;
}

export async function startMailbox(port = 0): Promise<Mailbox> {
	const mails: Mail[] = [];
	const handedOut = new Set<Mail>();
	const waiting: { to: string; resolve: (mail: Mail) => void }[] = [];

	function deliver(mail: Mail) {
		mails.push(mail);
		const i = waiting.findIndex((w) => mail.to.includes(w.to));
		if (i === -1) return;
		const [waiter] = waiting.splice(i, 1);
		handedOut.add(mail);
		waiter!.resolve(mail);
	}

	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS', 'AUTH'],
		logger: false,
		onData(stream, session, done) {
			simpleParser(stream)
				.then((parsed) => {
					deliver({
						from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
						to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
						subject: parsed.subject ?? '',
						text: parsed.text ?? '',
						html: typeof parsed.html === 'string' ? parsed.html : '',
						receivedAt: new Date()
					});
					done();
				})
				.catch((error: Error) => done(error));
		}
	});
	server.on('error', () => {}); // a client that hangs up mid-mail is not the test's concern
	await new Promise<void>((resolve, reject) => {
		server.server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve());
	});

	return {
		port: (server.server.address() as AddressInfo).port,
		mails,
		next(to, timeoutMs = 15_000) {
			const address = to.toLowerCase();
			const ready = mails.find((m) => !handedOut.has(m) && m.to.includes(address));
			if (ready) {
				handedOut.add(ready);
				return Promise.resolve(ready);
			}
			return new Promise<Mail>((resolve, reject) => {
				const waiter = {
					to: address,
					resolve: (mail: Mail) => {
						clearTimeout(timer);
						resolve(mail);
					}
				};
				const timer = setTimeout(() => {
					waiting.splice(waiting.indexOf(waiter), 1);
					reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
				}, timeoutMs);
				waiting.push(waiter);
			});
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve()))
	};
}

/** The first link in the mail's text whose path is `pathname`. */
export function linkIn(mail: Mail, pathname: string): URL {
	for (const match of mail.text.matchAll(/https?:\/\/\S+/g)) {
		const url = new URL(match[0]);
		if (url.pathname === pathname) return url;
	}
	throw new Error(`no ${pathname} link in the mail "${mail.subject}"`);
}
