/** A test WebSocket client that records every server message and can wait for one. */
import WebSocket from 'ws';
import type { LogEvent, ServerMessage } from '../../src/lib/ws/protocol.ts';

export class TestSocket {
	messages: ServerMessage[] = [];
	#waiters: (() => void)[] = [];
	private constructor(readonly ws: WebSocket) {
		ws.on('message', (data) => {
			this.messages.push(JSON.parse(String(data)));
			for (const w of this.#waiters.splice(0)) w();
		});
	}

	static open(
		port: number,
		cookie: string,
		origin = `http://localhost:${port}`
	): Promise<TestSocket> {
		return TestSocket.connect(`ws://127.0.0.1:${port}/ws/v1`, cookie, origin);
	}

	/** Opens any WebSocket URL (`wss://` through a proxy, too) as a browser on `origin` would. */
	static connect(url: string, cookie: string, origin: string): Promise<TestSocket> {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url, { headers: { origin, cookie } });
			const socket = new TestSocket(ws);
			ws.once('open', () => resolve(socket));
			ws.once('error', reject);
		});
	}

	send(message: object) {
		this.ws.send(JSON.stringify({ v: 1, ...message }));
	}

	async waitFor(predicate: (messages: ServerMessage[]) => boolean, ms = 15_000) {
		const end = Date.now() + ms;
		while (!predicate(this.messages)) {
			if (Date.now() > end)
				throw new Error(`timed out; last messages: ${JSON.stringify(this.messages.slice(-3))}`);
			await new Promise<void>((r) => {
				this.#waiters.push(r);
				setTimeout(r, 100);
			});
		}
	}

	events(conversationId: string): LogEvent[] {
		return this.messages.flatMap((m) =>
			m.type === 'event' && m.conversationId === conversationId ? [m.event] : []
		);
	}

	/** The assistant text as a client renders it from snapshot + events, checking order. */
	text(conversationId: string, messageId: string) {
		return renderedText(this.messages, conversationId, messageId);
	}

	close() {
		this.ws.close();
	}
}

/**
 * What a client shows for one answer after applying these server messages in order: the snapshot's
 * text plus every later delta. Throws on a repeated or out-of-order sequence number.
 */
export function renderedText(messages: ServerMessage[], conversationId: string, messageId: string) {
	let text = '';
	let seq = 0;
	for (const m of messages) {
		if (m.type === 'snapshot' && m.conversationId === conversationId) {
			text = m.messages.find((x) => x.id === messageId)?.content ?? '';
			seq = m.seq;
		} else if (m.type === 'event' && m.conversationId === conversationId) {
			if (m.event.seq <= seq) throw new Error(`duplicate or out-of-order event ${m.event.seq}`);
			seq = m.event.seq;
			if (m.event.type === 'delta' && m.event.messageId === messageId) text += m.event.text;
		}
	}
	return text;
}
