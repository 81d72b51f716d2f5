/**
 * The built server on its own Postgres database, with the mock tutor, an admin and some students
 * registered through the real /register form: the setup of the server-level tests of the app's pages.
 */
import { expect } from 'vitest';
import { TEST_SECRET } from './config.ts';
import { ADMIN_SETUP_CODE, Client, claimAdmin, startServer, type RunningServer } from './server.ts';

export const PASSWORD = 'correct horse battery staple';

/** Starts the server, then registers each student (in order) and the admin, each in its own client. */
export async function startAppWithUsers<const Students extends readonly string[]>(
	adminEmail: string,
	studentEmails: Students,
	/** `postgres: false` runs on embedded PGlite even when TEST_DATABASE_URL is set. */
	options: { postgres?: boolean; env?: Record<string, string> } = {}
): Promise<{
	server: RunningServer;
	anon: Client;
	students: { -readonly [K in keyof Students]: Client };
	admin: Client;
}> {
	const server = await startServer({
		postgres: options.postgres ?? true,
		env: {
			ADMIN_EMAIL: adminEmail,
			ADMIN_SETUP_CODE,
			JWT_SECRET_KEY: TEST_SECRET,
			PROTOCOL_HEADER: 'x-forwarded-proto',
			LLM_PROVIDER: 'mock',
			...options.env
		}
	});
	const client = () => new Client(server.url, { 'x-forwarded-proto': 'http' });
	async function register(email: string) {
		const c = client();
		const res = await c.post('/register', {
			email,
			displayName: email.split('@')[0]!,
			password: PASSWORD
		});
		expect(res.status).toBe(303);
		return c;
	}
	const anon = client();
	const students: Client[] = [];
	for (const email of studentEmails) students.push(await register(email));
	const admin = await register(adminEmail);
	await claimAdmin(admin);
	return {
		server,
		anon,
		students: students as { -readonly [K in keyof Students]: Client },
		admin
	};
}
