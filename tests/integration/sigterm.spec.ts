/**
 * SIGTERM mid-answer, with the server started the way the Docker image starts it (`node
 * build/app.js`, NODE_ENV=production, PostgreSQL): every WebSocket client is told to reconnect
 * (1012), the process exits 0 within its grace period, and no streamed text is lost: an answer that
 * fits in the grace is finished and saved whole; a longer one is saved up to its last token and
 * marked interrupted. A student who reconnects to another replica sees exactly the saved text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { TEST_SECRET } from '../helpers/config.ts';
import { createPostgresDatabase, TEST_DATABASE_URL } from '../helpers/db.ts';
import {
	Client,
	freePort,
	newConversation,
	startServer,
	type RunningServer
} from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';
import { CLOSE_SERVER_RESTART } from '../../src/lib/ws/protocol.ts';

describe.runIf(TEST_DATABASE_URL || process.env.CI)('SIGTERM mid-answer (production start)', () => {
	let url: string;
	let drop: () => Promise<void>;
	let sql: postgres.Sql;
	let cookie: string;
	const running: RunningServer[] = [];

	const start = async (env: Record<string, string>) => {
		const port = await freePort();
		const server = await startServer({
			databaseUrl: url,
			port,
			env: {
				NODE_ENV: 'production',
				// Production allows WebSockets from its public origin only.
				ORIGIN: `http://localhost:${port}`,
				JWT_SECRET_KEY: TEST_SECRET,
				LLM_PROVIDER: 'mock',
				TUTOR_FLUSH_MS: '100',
				...env
			}
		});
		running.push(server);
		return server;
	};
	const originOf = (s: RunningServer) => `http://localhost:${s.port}`;

	beforeAll(async () => {
		({ url, drop } = await createPostgresDatabase());
		sql = postgres(url, { max: 2, onnotice: () => {} });
		const first = await start({});
		const c = new Client(first.url);
		const res = await c.post('/register', {
			email: 'sigterm@example.com',
			displayName: 'Sig',
			password: 'sigterm password 1'
		});
		expect(res.status).toBe(303);
		cookie = c.cookieHeader();
		await first.stop();
	});
	afterAll(async () => {
		for (const s of running) await s.stop('SIGKILL');
		await sql?.end();
		await drop?.();
	});

	const answerRow = async (conversationId: string) =>
		(
			await sql<{ id: string; content: string; status: string }[]>`
				select id, content, status from messages
				where conversation_id = ${conversationId} and role = 'assistant' order by seq desc limit 1`
		)[0]!;

	/** The answer's text as the saved event log has it: every delta part, in order. */
	const loggedText = async (conversationId: string, messageId: string) =>
		(
			await sql<{ data: { messageId: string; parts: string[] } }[]>`
				select data from conversation_events
				where conversation_id = ${conversationId} and type = 'delta' order by seq`
		)
			.filter((r) => r.data.messageId === messageId)
			.flatMap((r) => r.data.parts)
			.join('');

	/**
	 * Asks on `server`, waits for some tokens, sends SIGTERM; returns what the client saw. With
	 * `closeReplyMs`, the client answers the server's close that much later (a slow network), so
	 * the socket closes during the grace period.
	 */
	async function askThenTerminate(
		server: RunningServer,
		prompt: string,
		tokensBefore: number,
		closeReplyMs = 0
	) {
		const id = await newConversation(server, cookie);
		const socket = await TestSocket.open(server.port, cookie, originOf(server));
		const closed = new Promise<{ code: number; at: number }>((resolve) =>
			socket.ws.once('close', (code) => resolve({ code, at: performance.now() }))
		);
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		socket.send({ type: 'send', conversationId: id, clientId: `${id}-1`, text: prompt });
		await socket.waitFor(
			() => socket.events(id).filter((e) => e.type === 'delta').length >= tokensBefore
		);
		const signalled = performance.now();
		if (closeReplyMs) {
			const raw = (socket.ws as unknown as { _socket: import('node:net').Socket })._socket;
			raw.pause();
			setTimeout(() => raw.resume(), closeReplyMs);
		}
		const exited = server.stop('SIGTERM');
		const close = await closed;
		const code = await exited;
		const exitMs = performance.now() - signalled;
		const delta = socket.events(id).find((e) => e.type === 'delta');
		const messageId = delta?.type === 'delta' ? delta.messageId : '';
		const lastSeq = socket.events(id).at(-1)!.seq;
		return {
			id,
			messageId,
			code,
			exitMs,
			closeCode: close.code,
			closeMs: close.at - signalled,
			seen: socket.text(id, messageId),
			lastSeq
		};
	}

	it('finishes an answer that fits in the grace period and saves all of it', async () => {
		const server = await start({ SHUTDOWN_GRACE_SECONDS: '10', MOCK_TOKEN_DELAY_MS: '40' });
		// 50 tokens at 40 ms: about 2 s of answer left when the signal comes.
		const r = await askThenTerminate(server, 'Finish me [mock:tokens:50]', 5);
		expect(r.closeCode).toBe(CLOSE_SERVER_RESTART);
		expect(r.closeMs).toBeLessThan(1000);
		expect(r.code).toBe(0);
		expect(r.exitMs).toBeLessThan(10_000);
		expect(server.logs()).toMatch(/"msg":"stopped"/);
		const saved = await answerRow(r.id);
		expect(saved.status).toBe('complete');
		expect(saved.content.match(/Token \d+/g)).toHaveLength(50);
		expect(saved.content.startsWith(r.seen)).toBe(true);
		expect(await loggedText(r.id, saved.id)).toBe(saved.content);
		console.info(
			`complete answer: 1012 after ${r.closeMs.toFixed(0)} ms, exit after ${r.exitMs.toFixed(0)} ms`
		);
	});

	it('a socket that closes during the grace period does not stop the answer being saved', async () => {
		const server = await start({ SHUTDOWN_GRACE_SECONDS: '10', MOCK_TOKEN_DELAY_MS: '40' });
		// The close completes about 500 ms into a grace spent finishing a 2 s answer.
		const r = await askThenTerminate(server, 'Close late [mock:tokens:50]', 5, 500);
		expect(r.closeCode).toBe(CLOSE_SERVER_RESTART);
		expect(r.code).toBe(0);
		expect(server.logs()).not.toMatch(/runtime not started/);
		const saved = await answerRow(r.id);
		expect(saved.status).toBe('complete');
		expect(saved.content.match(/Token \d+/g)).toHaveLength(50);
	});

	it('saves a longer answer up to its last token, interrupted, and a reconnecting client sees exactly that', async () => {
		const server = await start({ SHUTDOWN_GRACE_SECONDS: '1', MOCK_TOKEN_DELAY_MS: '25' });
		const replica = await start({ SHUTDOWN_GRACE_SECONDS: '1' });
		// 1000 tokens at 25 ms would take 25 s; the grace is 1 s.
		const r = await askThenTerminate(server, 'Too long [mock:tokens:1000]', 10);
		expect(r.closeCode).toBe(CLOSE_SERVER_RESTART);
		expect(r.code).toBe(0);
		expect(r.exitMs).toBeLessThan(1000 + 5000);
		const saved = await answerRow(r.id);
		expect(saved.status).toBe('interrupted');
		// Everything generated before the cut is saved: more than the client saw when the socket
		// closed (the answer kept going during the grace), and the log holds the same text.
		expect(saved.content.startsWith(r.seen)).toBe(true);
		expect(saved.content.length).toBeGreaterThan(r.seen.length);
		expect(await loggedText(r.id, saved.id)).toBe(saved.content);

		// The client does what 1012 asks: reconnects (to the other replica) from its last number.
		const again = await TestSocket.open(replica.port, cookie, originOf(replica));
		again.send({ type: 'subscribe', conversationId: r.id, since: r.lastSeq });
		await again.waitFor(() => again.events(r.id).some((e) => e.type === 'interrupted'));
		const catchUp = again
			.events(r.id)
			.map((e) => (e.type === 'delta' ? e.text : ''))
			.join('');
		expect(r.seen + catchUp).toBe(saved.content);
		again.close();
		console.info(
			`interrupted answer: ${saved.content.match(/Token \d+/g)?.length} tokens saved, exit after ${r.exitMs.toFixed(0)} ms`
		);
	});
});
