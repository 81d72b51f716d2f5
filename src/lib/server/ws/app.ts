/**
 * The Hono app mounted at `/ws/`. It holds nothing between requests: the user comes from the
 * cookie, the configuration, database and tutor from the services it is built with.
 *
 * @example
 * attachWebSockets(httpServer, createWsApp(services), { maxPayload: 65536 });
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { upgradeWebSocket } from '@hono/node-server';
import * as v from 'valibot';
import {
	ClientMessage,
	PROTOCOL_VERSION,
	type ErrorCode,
	type ServerMessage
} from '#lib/ws/protocol.ts';
import type { WSContext } from 'hono/ws';
import type { Failure } from '#lib/server/tutor/engine.ts';
import type { Socket, Subscription } from '#lib/server/tutor/fanout.ts';
import * as accounts from '#lib/server/auth/accounts.ts';
import { logger, requestIdFrom, withRequestContext } from '#lib/server/log.ts';
import * as metrics from '#lib/server/metrics.ts';
import type { Services } from '#lib/server/services.ts';
import { cookieAuth, originGuard, type WsEnv } from './guards';
import { messageLimit } from './limits';
import * as sessions from './sessions';

export function createWsApp(services: Services) {
	const { config, database } = services;
	const deps = { db: database.db, config };
	const app = new Hono<WsEnv>().basePath('/ws');

	app.use(async (c, next) => {
		const started = performance.now();
		const requestId = requestIdFrom(c.req.header('x-request-id'));
		c.set('requestId', requestId);
		await withRequestContext({ requestId }, next);
		c.header('x-request-id', requestId);
		// An accepted upgrade leaves no response here (the adaptor answers 101 itself).
		const status = c.get('upgrading') ? 101 : c.res.status;
		const seconds = (performance.now() - started) / 1000;
		metrics.observeHttpRequest(c.req.method, metrics.ROUTE.websocket, status, seconds);
	});
	app.use('/v1', originGuard({ allowed: () => config.allowedOrigins }));
	app.use(
		'/v1',
		cookieAuth({ authenticate: (token) => accounts.userFromAccessToken(deps, token) })
	);
	app.use('/v1', async (c, next) => {
		const userId = c.get('user').id;
		const max = config.tutor.maxSocketsPerUser;
		if (sessions.count(userId) >= max)
			throw new HTTPException(429, { message: `at most ${max} open connections per user` });
		const refused = await messageLimit(database.db, config, userId, 'connect');
		if (refused)
			throw new HTTPException(429, {
				res: Response.json(
					{ error: refused.message },
					{ status: 429, headers: { 'retry-after': String(refused.retryAfterSeconds ?? 1) } }
				)
			});
		await next();
	});

	app.get(
		'/v1',
		upgradeWebSocket((c) => {
			c.set('upgrading', c.req.header('upgrade')?.toLowerCase() === 'websocket');
			const user = c.get('user');
			return new Connection(
				services,
				user.id,
				user.displayName,
				c.get('requestId'),
				user.sessionId
			);
		})
	);

	app.notFound((c) => c.json({ error: 'not found' }, 404));
	app.onError((err, c) => {
		if (err instanceof HTTPException) return err.res ?? c.json({ error: err.message }, err.status);
		logger().error({ err }, 'websocket app error');
		return c.json({ error: 'internal error', requestId: c.get('requestId') }, 500);
	});
	return app;
}

/** Close code for a socket over the per-user cap (policy violation). */
const CLOSE_TOO_MANY = 1008;

function error(code: ErrorCode, message: string): ServerMessage {
	return { v: PROTOCOL_VERSION, type: 'error', code, message };
}

/**
 * One open socket: the adaptor calls `onOpen`, `onMessage` and `onClose` on it as methods, and it
 * is also the fan-out's `Socket` and the session registry's closable. One object with its methods
 * on the prototype and no closures: an idle socket should cost little more than the socket itself,
 * and nothing here refers to the handshake's context, which would stay alive with it.
 */
class Connection implements Socket {
	#ws: WSContext | undefined;
	#subscriptions: Map<string, Subscription> | undefined;
	#tracked = false;
	/** Only until the `ready` message is sent. */
	#displayName: string | undefined;

	constructor(
		private readonly services: Services,
		public userId: string,
		displayName: string,
		readonly requestId: string,
		readonly sessionId: string | undefined
	) {
		this.#displayName = displayName;
	}

	send(message: ServerMessage) {
		this.#ws?.send(JSON.stringify(message));
	}

	bufferedAmount() {
		return (this.#ws?.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0;
	}

	close(code: number, reason: string) {
		this.#ws?.close(code, reason);
	}

	onOpen(_event: Event, ws: WSContext) {
		this.#ws = ws;
		metrics.websocketOpened();
		// The check before the upgrade can be raced by handshakes in flight; this one cannot.
		const max = this.services.config.tutor.maxSocketsPerUser;
		const tracked = sessions.track(this.userId, this, max);
		if (tracked === null) return ws.close(CLOSE_TOO_MANY, 'too many connections');
		this.userId = tracked;
		this.#tracked = true;
		logger().info({ reqId: this.requestId, userId: this.userId }, 'websocket open');
		this.send({
			v: PROTOCOL_VERSION,
			type: 'ready',
			user: { id: this.userId, displayName: this.#displayName ?? '' }
		});
		this.#displayName = undefined;
	}

	onMessage(event: MessageEvent) {
		// Shutting down: every socket has been told to reconnect (1012); say so rather than fail.
		if (this.services.stopping)
			return this.send(error('internal', 'The server is restarting; send that again in a moment.'));
		if (!this.#tracked) return;
		const { config } = this.services;
		if (!sessions.allowFrame(this.userId, config.tutor.maxMessagesPerSecond))
			return this.send(error('rate_limited', 'Too many messages at once; slow down.'));
		const raw = typeof event.data === 'string' ? event.data : null;
		if (raw === null) return this.send(error('bad_request', 'Frames must be JSON text.'));
		const maxBytes = config.wsMaxPayloadBytes;
		if (Buffer.byteLength(raw) > maxBytes)
			return this.send(error('too_large', `Frames are limited to ${maxBytes} bytes.`));
		let data: unknown;
		try {
			data = JSON.parse(raw);
		} catch {
			return this.send(error('bad_request', 'Frame is not valid JSON.'));
		}
		if (data && typeof data === 'object' && 'v' in data && data.v !== PROTOCOL_VERSION)
			return this.send(
				error('unsupported_version', `This server speaks protocol version ${PROTOCOL_VERSION}.`)
			);
		const parsed = v.safeParse(ClientMessage, data);
		if (!parsed.success) {
			const issue = parsed.issues[0];
			const field = issue.path?.map((p) => String(p.key)).join('.');
			return this.send(
				error('bad_request', `Invalid message: ${field ? `${field} ` : ''}${issue.message}`)
			);
		}
		withRequestContext({ requestId: this.requestId, userId: this.userId }, () =>
			this.#handle(parsed.output).catch((err) => {
				logger().error({ err, type: parsed.output.type }, 'websocket message failed');
				this.send(
					error('internal', `Something went wrong on our side (reference ${this.requestId}).`)
				);
			})
		);
	}

	onClose() {
		metrics.websocketClosed();
		if (this.#tracked) sessions.untrack(this.userId, this);
		this.#tracked = false;
		// Also during shutdown: leaving a fan-out that has closed is harmless.
		const { fanout } = this.services.tutor;
		for (const sub of this.#subscriptions?.values() ?? []) fanout.remove(sub);
		this.#subscriptions = undefined;
		this.#ws = undefined;
		logger().debug({ reqId: this.requestId, userId: this.userId }, 'websocket closed');
	}

	/** One subscription per conversation: another subscribe that finished meanwhile is replaced. */
	#keep(fanout: { remove(sub: Subscription): void }, conversationId: string, sub: Subscription) {
		const subscriptions = (this.#subscriptions ??= new Map());
		const earlier = subscriptions.get(conversationId);
		if (earlier && earlier !== sub) fanout.remove(earlier);
		subscriptions.set(conversationId, sub);
	}

	#reply(result: { ok: true } | Failure, conversationId: string) {
		if (!result.ok)
			this.send({
				v: PROTOCOL_VERSION,
				type: 'error',
				code: result.code,
				message: result.message,
				conversationId,
				...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {})
			});
	}

	async #handle(message: ClientMessage) {
		const { config, database, tutor } = this.services;
		const userId = this.userId;
		// send, continue and regenerate are counted by the engine; ping only by #allowFrame.
		if (message.type === 'subscribe' || message.type === 'unsubscribe' || message.type === 'stop') {
			const refused = await messageLimit(database.db, config, userId, message.type);
			if (refused) return this.#reply(refused, message.conversationId);
		}
		switch (message.type) {
			case 'ping':
				return this.send({ v: PROTOCOL_VERSION, type: 'pong', id: message.id });
			case 'subscribe': {
				const previous = this.#subscriptions?.get(message.conversationId);
				if (previous) tutor.fanout.remove(previous);
				const result = await tutor.subscribe(this, userId, message.conversationId, message.since);
				if (result.ok) {
					if (!this.#tracked)
						tutor.fanout.remove(result.subscription); // closed meanwhile
					else this.#keep(tutor.fanout, message.conversationId, result.subscription);
				}
				return this.#reply(result, message.conversationId);
			}
			case 'unsubscribe': {
				const sub = this.#subscriptions?.get(message.conversationId);
				if (sub) tutor.fanout.remove(sub);
				this.#subscriptions?.delete(message.conversationId);
				return;
			}
			case 'send':
				return this.#reply(
					await tutor.send(userId, message.conversationId, message.clientId, message.text),
					message.conversationId
				);
			case 'stop':
				return this.#reply(
					await tutor.stop(userId, message.conversationId),
					message.conversationId
				);
			case 'continue':
				return this.#reply(
					await tutor.continueAnswer(userId, message.conversationId),
					message.conversationId
				);
			case 'regenerate':
				return this.#reply(
					await tutor.regenerate(userId, message.conversationId),
					message.conversationId
				);
		}
	}
}
