/**
 * A long conversation is sent page by page: the snapshot holds its newest 50 messages, and the
 * earlier pages are read by sequence number, by their owner only.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithUsers } from '../helpers/app.ts';
import type { Client, RunningServer } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

let server: RunningServer;
let anon: Client;
let alice: Client;
let bob: Client;
let admin: Client;
let id: string;
const url = (before: string) => `/api/me/conversations/${id}/messages?before=${before}`;

beforeAll(async () => {
	({
		server,
		anon,
		students: [alice, bob],
		admin
	} = await startAppWithUsers('pages.admin@example.com', [
		'pages.alice@example.com',
		'pages.bob@example.com'
	]));
	const created = await alice.post('/tutor?/create', {});
	id = created.headers.get('location')!.split('/').pop()!;
	// 120 messages, seq 1..120, one superseded answer among the earliest.
	const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
	await sql`
		insert into messages (conversation_id, role, content, status, seq)
		select ${id}::uuid, case when i % 2 = 1 then 'user' else 'assistant' end, 'message ' || i,
			case when i = 4 then 'superseded' else 'complete' end, i
		from generate_series(1, 120) i`;
	await sql`update conversations set last_seq = 120 where id = ${id}::uuid`;
	await sql.end();
});
afterAll(async () => {
	await server?.stop();
	await server?.dropDatabase();
});

describe('a long conversation, page by page', () => {
	it('subscribing sends the newest 50 messages and says there are earlier ones', async () => {
		const socket = await TestSocket.open(server.port, alice.cookieHeader());
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		const snapshot = socket.messages.find((m) => m.type === 'snapshot')!;
		expect(snapshot).toMatchObject({ seq: 120, hasEarlier: true });
		const seqs = snapshot.type === 'snapshot' ? snapshot.messages.map((m) => m.seq) : [];
		expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
		socket.close();
	});

	it('reads the earlier pages in order, each message once, without the superseded one', async () => {
		const seen: number[] = [];
		let before = 71;
		for (let more = true; more;) {
			const res = await alice.fetch(url(String(before)));
			expect(res.status).toBe(200);
			const page = (await res.json()) as { messages: { seq: number }[]; hasEarlier: boolean };
			seen.unshift(...page.messages.map((m) => m.seq));
			more = page.hasEarlier;
			before = page.messages[0]!.seq;
		}
		expect(seen).toEqual(Array.from({ length: 70 }, (_, i) => i + 1).filter((s) => s !== 4));
	});

	it('answers only the owner, and a bad page request with 400', async () => {
		expect((await anon.fetch(url('71'))).status).toBe(401);
		expect((await bob.fetch(url('71'))).status).toBe(404);
		expect((await admin.fetch(url('71'))).status).toBe(404);
		for (const before of ['', '0', 'abc', '-1', '1.5', '99999999999', '2147483648'])
			expect((await alice.fetch(url(before))).status, before).toBe(400);
		const badId = await alice.fetch('/api/me/conversations/not-a-uuid/messages?before=5');
		expect(badId.status).toBe(400);
	});
});

describe('the conversation list, page by page', () => {
	const links = (html: string) => ({
		titles: [...html.matchAll(/<span class="title[^"]*">(Chat \d+)<\/span>/g)].map((m) => m[1]),
		older: /rel="next"/.test(html),
		newer: /rel="prev"/.test(html)
	});

	it('pages 41 conversations by 20, newest first, with no total counted', async () => {
		const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
		await sql`
			insert into conversations (user_id, title, updated_at)
			select u.id, 'Chat ' || i, now() - i * interval '1 minute'
			from users u, generate_series(1, 41) i where u.email = 'pages.bob@example.com'`;
		await sql.end();
		const page = async (query: string) => links(await (await bob.fetch(`/tutor${query}`)).text());
		const first = await page('');
		expect(first.titles).toEqual(Array.from({ length: 20 }, (_, i) => `Chat ${i + 1}`));
		expect(first).toMatchObject({ older: true, newer: false });
		expect(await page('?page=2')).toMatchObject({ older: true, newer: true });
		expect(await page('?page=3')).toEqual({ titles: ['Chat 41'], older: false, newer: true });
		const found = await page('?q=' + encodeURIComponent('Chat 4'));
		expect(found).toEqual({ titles: ['Chat 4', 'Chat 40', 'Chat 41'], older: false, newer: false });
		const beyond = await (await bob.fetch('/tutor?page=9')).text();
		expect(beyond).toContain('No conversations on this page.');
	});
});
