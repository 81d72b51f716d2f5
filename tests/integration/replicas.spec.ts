/**
 * Two server processes on one PostgreSQL database: a watcher on one sees a generation owned by the
 * other live; stop works across them; `kill -9` of the owner mid-answer leaves the saved prefix
 * marked interrupted, and Continue works from the survivor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Client, newConversation, startServer, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';
import { createPostgresDatabase, TEST_DATABASE_URL } from '../helpers/db.ts';
import { TEST_SECRET } from '../helpers/config.ts';

describe.runIf(TEST_DATABASE_URL)('two replicas on one database', () => {
	let a: RunningServer;
	let b: RunningServer;
	let url: string;
	let drop: () => Promise<void>;
	let sql: postgres.Sql;
	let cookie: string;

	const env = {
		JWT_SECRET_KEY: TEST_SECRET,
		LLM_PROVIDER: 'mock',
		MOCK_TOKEN_DELAY_MS: '25',
		TUTOR_FLUSH_MS: '50',
		TUTOR_LEASE_SECONDS: '2',
		CORS_ORIGINS: 'http://localhost:1'
	};
	const originFor = (s: RunningServer) => `http://localhost:${s.port}`;

	beforeAll(async () => {
		({ url, drop } = await createPostgresDatabase());
		// Both replicas migrate at once, as compose starts them.
		[a, b] = await Promise.all([
			startServer({ databaseUrl: url, env: { ...env, CORS_ORIGINS: '' } }),
			startServer({ databaseUrl: url, env: { ...env, CORS_ORIGINS: '' } })
		]);
		sql = postgres(url, { max: 2, onnotice: () => {} });
		const c = new Client(a.url);
		const res = await c.post('/register', {
			email: 'replica@example.com',
			displayName: 'Rep',
			password: 'replica password 1'
		});
		expect(res.status).toBe(303);
		cookie = c.cookieHeader();
	});
	afterAll(async () => {
		await a?.stop('SIGKILL');
		await b?.stop('SIGKILL');
		await sql?.end();
		await drop?.();
	});

	const assistant = async (conversationId: string) =>
		(
			await sql`select id, content, status from messages where conversation_id = ${conversationId} and role = 'assistant' and status <> 'superseded' order by seq desc limit 1`
		)[0] as { id: string; content: string; status: string };

	/** A student watches on replica B and asks on replica A. */
	async function askOnAWatchOnB(id: string, clientId: string, text: string) {
		const owner = await TestSocket.open(a.port, cookie, originFor(a));
		const watcher = await TestSocket.open(b.port, cookie, originFor(b));
		watcher.send({ type: 'subscribe', conversationId: id });
		await watcher.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		owner.send({ type: 'send', conversationId: id, clientId, text });
		return { owner, watcher };
	}

	it('a watcher on one replica sees a generation owned by the other, live; stop works across them', async () => {
		const id = await newConversation(a, cookie);
		const { owner, watcher } = await askOnAWatchOnB(
			id,
			'replica-msg-1',
			'Across [mock:tokens:400]'
		);
		await watcher.waitFor(() => watcher.events(id).filter((e) => e.type === 'delta').length >= 10);
		// Stop from the replica that does not own the generation.
		watcher.send({ type: 'stop', conversationId: id });
		await watcher.waitFor(() => watcher.events(id).some((e) => e.type === 'stopped'));
		const saved = await assistant(id);
		expect(saved.status).toBe('stopped');
		expect(watcher.text(id, saved.id)).toBe(saved.content);
		owner.close();
		watcher.close();
	});

	it('kill -9 of the owner mid-answer: the saved prefix is marked interrupted and Continue works from the other replica', async () => {
		const id = await newConversation(b, cookie);
		const { watcher } = await askOnAWatchOnB(id, 'replica-msg-2', 'Crash [mock:tokens:1000]');
		await watcher.waitFor(() => watcher.events(id).filter((e) => e.type === 'delta').length >= 20);
		await a.stop('SIGKILL');
		await watcher.waitFor(() => watcher.events(id).some((e) => e.type === 'interrupted'), 20_000);
		const saved = await assistant(id);
		expect(saved.status).toBe('interrupted');
		expect(saved.content.length).toBeGreaterThan(0);
		// What the watcher shows is exactly the saved prefix: nothing lost, nothing doubled.
		expect(watcher.text(id, saved.id)).toBe(saved.content);

		watcher.send({ type: 'continue', conversationId: id });
		await watcher.waitFor(() => watcher.events(id).some((e) => e.type === 'done'), 60_000);
		// Watchers on the owning replica hear "done" as it happens; the row follows within a flush.
		let finished = await assistant(id);
		for (let i = 0; i < 50 && finished.status !== 'complete'; i++) {
			await new Promise((r) => setTimeout(r, 100));
			finished = await assistant(id);
		}
		expect(finished.status).toBe('complete');
		expect(finished.content.startsWith(saved.content)).toBe(true);
		expect(watcher.text(id, finished.id)).toBe(finished.content);
		watcher.close();
	});
});
