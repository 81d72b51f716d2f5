/**
 * Starts the built production server (`build/app.js`, exactly what `npm start` runs) as a child
 * process on a free port, with its own database, and captures its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serverNodeFlags } from '../../scripts/server-flags.js';
import { createPostgresDatabase, TEST_DATABASE_URL } from './db.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ENTRY = path.join(ROOT, 'build', 'app.js');

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const port = (s.address() as { port: number }).port;
			s.close(() => resolve(port));
		});
	});
}

export interface RunningServer {
	url: string;
	port: number;
	child: ChildProcess;
	dataDir: string;
	databaseUrl?: string;
	logs(): string;
	stop(signal?: NodeJS.Signals): Promise<number | null>;
	dropDatabase(): Promise<void>;
}

export async function startServer(
	options: {
		env?: Record<string, string>;
		postgres?: boolean;
		port?: number;
		dataDir?: string;
		databaseUrl?: string;
	} = {}
): Promise<RunningServer> {
	const port = options.port ?? (await freePort());
	const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'tutor-srv-'));
	let databaseUrl = options.databaseUrl;
	let drop = async () => {};
	if (!databaseUrl && options.postgres && TEST_DATABASE_URL) {
		const created = await createPostgresDatabase();
		databaseUrl = created.url;
		drop = created.drop;
	}
	const env: Record<string, string> = {
		PATH: process.env.PATH ?? '',
		HOME: process.env.HOME ?? '/tmp',
		PORT: String(port),
		HOST: '127.0.0.1',
		DATA_DIR: dataDir,
		LOG_LEVEL: 'info',
		...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
		...options.env
	};
	const child = spawn(process.execPath, [...serverNodeFlags, ENTRY], {
		cwd: ROOT,
		env,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout!.on('data', (d) => (output += d));
	child.stderr!.on('data', (d) => (output += d));
	const exited = new Promise<number | null>((resolve) =>
		child.once('exit', (code) => resolve(code))
	);
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
		const check = () => {
			if (output.includes('listening on')) {
				clearTimeout(timer);
				child.stdout!.off('data', check);
				resolve();
			}
		};
		child.stdout!.on('data', check);
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`server exited with ${code}:\n${output}`));
		});
	});
	return {
		url: `http://127.0.0.1:${port}`,
		port,
		child,
		dataDir,
		databaseUrl,
		logs: () => output,
		async stop(signal = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			return exited;
		},
		dropDatabase: drop
	};
}

/** A minimal browser: keeps cookies, sends the Origin header forms carry, never follows redirects. */
export class Client {
	cookies = new Map<string, string>();
	constructor(
		readonly base: string,
		readonly defaultHeaders: Record<string, string> = {}
	) {}

	cookieHeader() {
		return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
	}

	async fetch(
		pathname: string,
		init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {}
	) {
		const headers: Record<string, string> = {
			origin: this.base,
			...this.defaultHeaders,
			...init.headers
		};
		if (this.cookies.size) headers.cookie = this.cookieHeader();
		const res = await fetch(this.base + pathname, { ...init, headers, redirect: 'manual' });
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(';');
			const [name, ...rest] = pair!.split('=');
			const value = rest.join('=');
			if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line))
				this.cookies.delete(name!.trim());
			else this.cookies.set(name!.trim(), value);
		}
		return res;
	}

	post(pathname: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
		return this.fetch(pathname, {
			method: 'POST',
			body: new URLSearchParams(fields).toString(),
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				accept: 'text/html',
				...headers
			}
		});
	}
}

/** Creates a tutor conversation on `server` as the user whose cookies are in `cookie`; returns its id. */
export async function newConversation(server: RunningServer, cookie: string): Promise<string> {
	const c = new Client(server.url);
	for (const part of cookie.split('; ')) {
		const [k, ...v] = part.split('=');
		c.cookies.set(k!, v.join('='));
	}
	const res = await c.post('/tutor?/create', {});
	if (res.status !== 303) throw new Error(`creating a conversation answered ${res.status}`);
	return res.headers.get('location')!.split('/').pop()!;
}

/** The first-administrator code the test servers are started with (ADMIN_SETUP_CODE). */
export const ADMIN_SETUP_CODE = 'test-admin-setup-code-0123456789';

/** Makes the signed-in ADMIN_EMAIL account of `c` the administrator with the setup code. */
export async function claimAdmin(c: Client) {
	const res = await c.post('/admin-setup', { code: ADMIN_SETUP_CODE });
	if (res.status !== 303 || res.headers.get('location') !== '/admin')
		throw new Error(`admin setup answered ${res.status}: ${await res.text()}`);
}
