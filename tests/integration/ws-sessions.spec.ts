/**
 * The tutor's WebSocket protocol on the built server, for what only a real socket shows: two
 * subscribes racing on one socket, out-of-range numbers, and a follow-up question sent on a new
 * socket right after the previous answer's `done`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/config.ts';
import { Client, newConversation, startServer, type RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

let server: RunningServer;
let student: Client;

beforeAll(async () => {
	server = await startServer({
		postgres: true,
		env: {
			JWT_SECRET_KEY: TEST_SECRET,
			LLM_PROVIDER: 'mock',
			MOCK_TOKEN_COUNT: '20',
			MOCK_TOKEN_DELAY_MS: '2',
			TUTOR_RATE_LIMIT: '1000'
		}
	});
	student = new Client(server.url);
	const res = await student.post('/register', {
		email: 'sockets@example.com',
		displayName: 'Sam',
		password: 'correct horse battery staple'
	});
	expect(res.status).toBe(303);
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await server?.dropDatabase();
});

const done = (socket: TestSocket, conversationId: string, count: number) =>
	socket.waitFor(
		() => socket.events(conversationId).filter((e) => e.type === 'done').length >= count
	);

describe('subscriptions', () => {
	it('two subscribes for one conversation on one socket deliver each event once', async () => {
		const id = await newConversation(server, student.cookieHeader());
		const socket = await TestSocket.open(server.port, student.cookieHeader());
		socket.send({ type: 'subscribe', conversationId: id });
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.filter((x) => x.type === 'snapshot').length === 2);
		socket.send({ type: 'send', conversationId: id, clientId: 'twice-one', text: 'Hello?' });
		await done(socket, id, 1);
		const seqs = socket.events(id).map((e) => e.seq);
		expect(seqs).toEqual([...new Set(seqs)]);
		socket.close();
	});

	it('refuses numbers out of range as bad requests, not internal errors', async () => {
		const id = await newConversation(server, student.cookieHeader());
		const socket = await TestSocket.open(server.port, student.cookieHeader());
		for (const since of [2 ** 31, -1, 1.5]) {
			socket.send({ type: 'subscribe', conversationId: id, since });
			await socket.waitFor((m) => m.at(-1)?.type === 'error');
			expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'bad_request' });
		}
		socket.close();
		expect(server.logs()).not.toContain('websocket message failed');
	});
});

describe('a follow-up question', () => {
	it('sent on a new socket right after done is accepted, each time', async () => {
		const id = await newConversation(server, student.cookieHeader());
		for (let turn = 1; turn <= 5; turn++) {
			const socket = await TestSocket.open(server.port, student.cookieHeader());
			socket.send({ type: 'subscribe', conversationId: id });
			await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
			socket.send({
				type: 'send',
				conversationId: id,
				clientId: `follow-up-${turn}`,
				text: `Q${turn}`
			});
			await socket.waitFor(
				(m) => m.some((x) => x.type === 'error') || socket.events(id).some((e) => e.type === 'done')
			);
			expect(socket.messages.flatMap((x) => (x.type === 'error' ? [x.message] : []))).toEqual([]);
			socket.close();
		}
	});
});
