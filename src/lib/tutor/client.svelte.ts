/**
 * The browser side of a tutoring session: one WebSocket that reconnects by itself, and the state of
 * the open conversation built from the server's ordered events.
 *
 * The conversation remembers the last sequence number it rendered and subscribes from it after any
 * reconnect, so the server sends exactly what is missing. Every frame from the server is validated
 * with the same schemas the server uses.
 *
 * @example
 * const chat = new ConversationState(id);
 * const socket = new TutorSocket(); socket.open(chat);
 * socket.sendMessage(chat, 'Why is my loop infinite?');
 */
import * as v from 'valibot';
import {
	PROTOCOL_VERSION,
	ServerMessage,
	WS_PATH,
	type ChatMessageView,
	type ClientMessage,
	type LogEvent
} from '#lib/ws/protocol.ts';

export interface ViewMessage extends Omit<ChatMessageView, 'status'> {
	status: ChatMessageView['status'] | 'sending' | 'failed';
	clientId?: string;
}

export class ConversationState {
	readonly id: string;
	messages = $state<ViewMessage[]>([]);
	title = $state('');
	generating = $state(false);
	loaded = $state(false);
	notice = $state<string | null>(null);
	/** Older messages than the first shown exist; `loadEarlier` reads them a page at a time. */
	hasEarlier = $state(false);
	loadingEarlier = $state(false);
	#lastSeq = 0;

	constructor(id: string, title = '') {
		this.id = id;
		this.title = title;
	}

	get lastSeq() {
		return this.#lastSeq;
	}

	applySnapshot(snapshot: Extract<ServerMessage, { type: 'snapshot' }>) {
		const local = (m: ViewMessage) => m.status === 'sending' || m.status === 'failed';
		const unsent = this.messages.filter(local);
		// Pages read before stay: only a snapshot's newest messages can have changed.
		const first = snapshot.messages[0]?.seq ?? Infinity;
		const older = this.messages.filter((m) => !local(m) && m.seq < first);
		this.messages = [...older, ...snapshot.messages, ...unsent];
		if (!older.length) this.hasEarlier = Boolean(snapshot.hasEarlier);
		this.title = snapshot.title;
		this.generating = snapshot.generating;
		this.#lastSeq = snapshot.seq;
		this.loaded = true;
	}

	/** Reads the page before the oldest message shown; false when there was nothing to read. */
	async loadEarlier(): Promise<boolean> {
		const first = this.messages[0];
		if (!this.hasEarlier || this.loadingEarlier || !first) return false;
		this.loadingEarlier = true;
		try {
			const res = await fetch(`/api/me/conversations/${this.id}/messages?before=${first.seq}`);
			if (!res.ok) throw new Error(`earlier messages: HTTP ${res.status}`);
			const page = (await res.json()) as { messages: ChatMessageView[]; hasEarlier: boolean };
			const shown = this.messages.map((m) => m.id);
			const earlier = page.messages.filter((m) => !shown.includes(m.id) && m.seq < first.seq);
			this.messages = [...earlier, ...this.messages];
			this.hasEarlier = page.hasEarlier;
			return earlier.length > 0;
		} finally {
			this.loadingEarlier = false;
		}
	}

	apply(event: LogEvent) {
		if (event.seq <= this.#lastSeq) return;
		this.#lastSeq = event.seq;
		const find = (id: string) => this.messages.find((m) => m.id === id);
		switch (event.type) {
			case 'user': {
				const local =
					event.clientId && this.messages.findIndex((m) => m.clientId === event.clientId);
				const message: ViewMessage = {
					id: event.messageId,
					role: 'user',
					content: event.text,
					status: 'complete',
					seq: event.seq
				};
				if (typeof local === 'number' && local >= 0) this.messages[local] = message;
				else this.messages.push(message);
				this.notice = null;
				break;
			}
			case 'start': {
				this.generating = true;
				if (event.continued) {
					const m = find(event.messageId);
					if (m) {
						m.status = 'streaming';
						m.errorKind = null;
						m.errorMessage = null;
					}
					break;
				}
				if (event.replaces) this.messages = this.messages.filter((m) => m.id !== event.replaces);
				this.messages.push({
					id: event.messageId,
					role: 'assistant',
					content: '',
					status: 'streaming',
					seq: event.seq
				});
				break;
			}
			case 'delta': {
				const m = find(event.messageId);
				if (m) m.content += event.text;
				break;
			}
			case 'done':
			case 'stopped':
			case 'interrupted': {
				const m = find(event.messageId);
				if (m) m.status = event.type === 'done' ? 'complete' : event.type;
				this.generating = false;
				break;
			}
			case 'notice': {
				const m = find(event.messageId);
				if (m) m.notice = event.notice;
				break;
			}
			case 'error': {
				const m = find(event.messageId);
				if (m) {
					m.status = 'error';
					m.errorKind = event.kind;
					m.errorMessage = event.message;
				}
				this.generating = false;
				break;
			}
		}
	}

	/** Shows the student's message at once; the server's `user` event replaces it. */
	addPending(clientId: string, text: string) {
		this.messages.push({
			id: `pending-${clientId}`,
			clientId,
			role: 'user',
			content: text,
			status: 'sending',
			seq: Number.MAX_SAFE_INTEGER
		});
	}

	failPending(message: string) {
		for (const m of this.messages) if (m.status === 'sending') m.status = 'failed';
		this.notice = message;
	}
}

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'signed-out';

export class TutorSocket {
	status = $state<ConnectionStatus>('connecting');
	#ws: WebSocket | null = null;
	#conversation: ConversationState | null = null;
	#queue: ClientMessage[] = [];
	#attempt = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#resubscribe: ReturnType<typeof setTimeout> | undefined;
	#closed = false;
	#everOpened = false;

	/** Connects (if needed) and watches `conversation`. */
	open(conversation: ConversationState) {
		if (this.#conversation && this.#conversation.id !== conversation.id)
			this.#raw({
				v: PROTOCOL_VERSION,
				type: 'unsubscribe',
				conversationId: this.#conversation.id
			});
		this.#conversation = conversation;
		if (this.#ws?.readyState === WebSocket.OPEN) this.#subscribe();
		else if (!this.#ws) this.#connect();
	}

	close() {
		this.#closed = true;
		clearTimeout(this.#timer);
		clearTimeout(this.#resubscribe);
		this.#ws?.close(1000, 'page closed');
		this.#ws = null;
	}

	sendMessage(
		conversation: ConversationState,
		text: string,
		clientId: string = crypto.randomUUID()
	) {
		if (!conversation.messages.some((m) => m.clientId === clientId))
			conversation.addPending(clientId, text);
		else for (const m of conversation.messages) if (m.clientId === clientId) m.status = 'sending';
		this.#send({
			v: PROTOCOL_VERSION,
			type: 'send',
			conversationId: conversation.id,
			clientId,
			text
		});
	}

	stop(conversation: ConversationState) {
		this.#send({ v: PROTOCOL_VERSION, type: 'stop', conversationId: conversation.id });
	}

	continueAnswer(conversation: ConversationState) {
		this.#send({ v: PROTOCOL_VERSION, type: 'continue', conversationId: conversation.id });
	}

	regenerate(conversation: ConversationState) {
		this.#send({ v: PROTOCOL_VERSION, type: 'regenerate', conversationId: conversation.id });
	}

	#send(message: ClientMessage) {
		if (this.#ws?.readyState === WebSocket.OPEN) this.#raw(message);
		else this.#queue.push(message);
	}

	#raw(message: ClientMessage) {
		this.#ws?.send(JSON.stringify(message));
	}

	#subscribe() {
		const c = this.#conversation;
		if (!c) return;
		this.#raw({
			v: PROTOCOL_VERSION,
			type: 'subscribe',
			conversationId: c.id,
			...(c.loaded && c.lastSeq > 0 ? { since: c.lastSeq } : {})
		});
	}

	#connect() {
		if (this.#closed) return;
		this.status = this.#everOpened ? 'reconnecting' : 'connecting';
		const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`;
		const ws = new WebSocket(url);
		this.#ws = ws;
		let opened = false;
		ws.onopen = () => {
			opened = true;
			this.#everOpened = true;
			this.#attempt = 0;
			this.status = 'open';
			this.#subscribe();
			for (const message of this.#queue.splice(0)) this.#raw(message);
		};
		ws.onmessage = (event) => this.#receive(event.data);
		ws.onclose = (event) => {
			if (this.#ws !== ws) return;
			this.#ws = null;
			if (this.#closed) return;
			// A refused upgrade often means the short-lived session cookie expired: renew it first.
			// 4401: the server ended this session (signed out everywhere, account disabled).
			const renew = opened && event.code !== 4401 ? Promise.resolve(true) : this.#renewSession();
			void renew.then((ok) => {
				if (!ok) {
					this.status = 'signed-out';
					return;
				}
				this.status = 'reconnecting';
				const delay = Math.min(10_000, 400 * 2 ** this.#attempt++) * (0.75 + Math.random() / 2);
				this.#timer = setTimeout(() => this.#connect(), delay);
			});
		};
	}

	async #renewSession(): Promise<boolean> {
		try {
			const res = await fetch('/api/me', { credentials: 'same-origin' });
			return res.status !== 401;
		} catch {
			return true; // offline: keep trying
		}
	}

	#receive(data: unknown) {
		let json: unknown;
		try {
			json = JSON.parse(String(data));
		} catch {
			return;
		}
		const parsed = v.safeParse(ServerMessage, json);
		if (!parsed.success) {
			console.warn('Ignoring a malformed message from the server', parsed.issues[0]?.message);
			return;
		}
		const message = parsed.output;
		const c = this.#conversation;
		switch (message.type) {
			case 'snapshot':
				if (c?.id === message.conversationId) c.applySnapshot(message);
				break;
			case 'event':
				if (c?.id === message.conversationId) c.apply(message.event);
				break;
			case 'conversation':
				if (c?.id === message.conversationId) c.title = message.title;
				break;
			case 'error':
				if (c && (!message.conversationId || message.conversationId === c.id)) {
					if (message.code === 'not_found') c.notice = message.message;
					else c.failPending(message.message);
					// A refused subscribe leaves the conversation unloaded: ask again when allowed.
					if (message.code === 'rate_limited' && !c.loaded && message.retryAfterSeconds) {
						clearTimeout(this.#resubscribe);
						this.#resubscribe = setTimeout(() => {
							if (this.#conversation === c && !c.loaded && this.#ws?.readyState === WebSocket.OPEN)
								this.#subscribe();
						}, message.retryAfterSeconds * 1000);
					}
				}
				break;
		}
	}
}
