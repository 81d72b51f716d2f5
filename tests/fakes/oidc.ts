/**
 * A real OpenID Provider for the tests: `oidc-provider` (the certified Node implementation) on a
 * loopback port, with its development login and consent pages, test clients and test accounts.
 *
 * @example
 * const op = await startOidcProvider({ clients: [{ id: 'tutor', secret: 's', redirectUris: [cb] }] });
 * op.accounts.set('ada', { email: 'ada@school.edu', email_verified: true, name: 'Ada' });
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestClient {
	id: string;
	secret: string;
	redirectUris: string[];
}
export interface TestAccount {
	email?: string;
	email_verified?: boolean;
	name?: string;
}

export interface RunningProvider {
	issuer: string;
	port: number;
	/** Accounts by login name (the subject); a login not listed signs in with no claims but `sub`. */
	accounts: Map<string, TestAccount>;
	close(): Promise<void>;
}

export async function startOidcProvider(options: {
	clients: TestClient[];
	port?: number;
}): Promise<RunningProvider> {
	const accounts = new Map<string, TestAccount>();
	// The issuer names the port, so the server listens before the provider exists.
	const server: Server = createServer((req, res) => handler(req, res));
	await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	const issuer = `http://127.0.0.1:${port}`;
	const provider = new Provider(issuer, {
		clients: options.clients.map((c) => ({
			client_id: c.id,
			client_secret: c.secret,
			redirect_uris: c.redirectUris,
			grant_types: ['authorization_code'],
			response_types: ['code']
		})),
		claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
		findAccount: (_ctx, id) => ({
			accountId: id,
			claims: () => ({ sub: id, ...accounts.get(id) })
		}),
		pkce: { required: () => true },
		cookies: { keys: ['oidc-test-cookie-key'] },
		features: { devInteractions: { enabled: true } }
	});
	provider.on('server_error', (_ctx, error) => console.error('oidc-provider:', error));
	const handler = provider.callback();
	return {
		issuer,
		port,
		accounts,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

/**
 * Plays the user at the provider without a browser: follows the authorization request through the
 * development login (as `login`) and consent pages, and returns the redirect back to the app.
 */
export async function authorizeAt(authorizationUrl: string, login: string): Promise<URL> {
	const cookies = new Map<string, string>();
	let url = new URL(authorizationUrl);
	const origin = url.origin;
	for (let step = 0; step < 12; step++) {
		const page = await send(url);
		if (page.status >= 300 && page.status < 400) {
			url = new URL(page.headers.get('location')!, url);
			if (url.origin !== origin) return url;
			continue;
		}
		const html = await page.text();
		if (page.status !== 200)
			throw new Error(`provider answered ${page.status}: ${html.slice(0, 300)}`);
		const fields: Record<string, string> = html.includes('name="login"')
			? { prompt: 'login', login, password: 'x' }
			: { prompt: 'consent' };
		const done = await send(url, new URLSearchParams(fields));
		url = new URL(done.headers.get('location')!, url);
		if (url.origin !== origin) return url;
	}
	throw new Error('the provider did not redirect back');

	async function send(target: URL, body?: URLSearchParams) {
		const headers: Record<string, string> = {
			cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
		};
		if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
		const res = await fetch(target, {
			method: body ? 'POST' : 'GET',
			body,
			headers,
			redirect: 'manual'
		});
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(';');
			const [name, ...rest] = pair!.split('=');
			cookies.set(name!.trim(), rest.join('='));
		}
		return res;
	}
}
