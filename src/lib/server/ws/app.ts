/**
 * The Hono app mounted at `/ws/`. It holds nothing between requests: the user comes from the
 * cookie, the configuration and database from the runtime.
 *
 * @example
 * attachWebSockets(httpServer, createWsApp(), { maxPayload: 65536 });
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
import type { Failure } from '../tutor/engine';
import type { Socket, Subscription } from '../tutor/fanout';
import * as accounts from '../auth/accounts';
import { logger, requestIdFrom, withRequestContext } from '../log';
import * as metrics from '../metrics';
import { runtime } from '../runtime';
import { cookieAuth, originGuard, type WsEnv } from './guards';
import { messageLimit } from './limits';
import * as sessions from './sessions';

function send(ws: { send(data: string): void }, message: ServerMessage) {
	ws.send(JSON.stringify(message));
}

/** Frames per second per socket: a token bucket that refills continuously. */
function frameLimiter(perSecond: number) {
	let tokens = perSecond;
	let last = performance.now();
	return () => {
		const now = performance.now();
		tokens = Math.min(perSecond, tokens + ((now - last) / 1000) * perSecond);
		last = now;
		if (tokens < 1) return false;
		tokens -= 1;
		return true;
	};
}

export function createWsApp() {
	const deps = () => ({ db: runtime().database.db, config: runtime().config });
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
	app.use('/v1', originGuard({ allowed: () => runtime().config.allowedOrigins }));
	app.use(
		'/v1',
		cookieAuth({ authenticate: (token) => accounts.userFromAccessToken(deps(), token) })
	);

	app.get(
		'/v1',
		upgradeWebSocket((c) => {
			c.set('upgrading', c.req.header('upgrade')?.toLowerCase() === 'websocket');
			const user = c.get('user');
			const requestId = c.get('requestId');
			const { config, tutor } = runtime();
			const maxBytes = config.wsMaxPayloadBytes;
			const allowFrame = frameLimiter(config.tutor.maxMessagesPerSecond);
			const subscriptions = new Map<string, Subscription>();
			let socket: Socket | undefined;
			let opened: WSContext | undefined;

			const handle = async (ws: WSContext, message: ClientMessage) => {
				const reply = (result: { ok: true } | Failure, conversationId: string) => {
					if (!result.ok)
						send(ws, {
							v: PROTOCOL_VERSION,
							type: 'error',
							code: result.code,
							message: result.message,
							conversationId,
							...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {})
						});
				};
				// send, continue and regenerate are counted by the engine; ping only by allowFrame.
				if (
					message.type === 'subscribe' ||
					message.type === 'unsubscribe' ||
					message.type === 'stop'
				) {
					const refused = await messageLimit(deps().db, config, user.id, message.type);
					if (refused) return reply(refused, message.conversationId);
				}
				switch (message.type) {
					case 'ping':
						return send(ws, { v: PROTOCOL_VERSION, type: 'pong', id: message.id });
					case 'subscribe': {
						const previous = subscriptions.get(message.conversationId);
						if (previous) tutor.fanout.remove(previous);
						const result = await tutor.subscribe(
							socket!,
							user.id,
							message.conversationId,
							message.since
						);
						if (result.ok) subscriptions.set(message.conversationId, result.subscription);
						return reply(result, message.conversationId);
					}
					case 'unsubscribe': {
						const sub = subscriptions.get(message.conversationId);
						if (sub) tutor.fanout.remove(sub);
						subscriptions.delete(message.conversationId);
						return;
					}
					case 'send':
						return reply(
							await tutor.send(user.id, message.conversationId, message.clientId, message.text),
							message.conversationId
						);
					case 'stop':
						return reply(await tutor.stop(user.id, message.conversationId), message.conversationId);
					case 'continue':
						return reply(
							await tutor.continueAnswer(user.id, message.conversationId),
							message.conversationId
						);
					case 'regenerate':
						return reply(
							await tutor.regenerate(user.id, message.conversationId),
							message.conversationId
						);
				}
			};

			return {
				onOpen(_event, ws) {
					// The adaptor keeps the handshake's context alive as long as the socket; drop the
					// request it points to so an idle socket costs little more than the socket itself.
					const env = c.env as { incoming?: unknown; outgoing?: unknown } | undefined;
					if (env) env.incoming = env.outgoing = undefined;
					const raw = ws.raw as { bufferedAmount?: number } | undefined;
					socket = {
						send: (m) => send(ws, m),
						bufferedAmount: () => raw?.bufferedAmount ?? 0
					};
					metrics.websocketOpened();
					opened = ws;
					sessions.track(user.id, ws);
					logger().info({ reqId: requestId, userId: user.id }, 'websocket open');
					send(ws, {
						v: PROTOCOL_VERSION,
						type: 'ready',
						user: { id: user.id, displayName: user.displayName }
					});
				},
				onMessage(event, ws) {
					if (!allowFrame())
						return send(ws, error('rate_limited', 'Too many messages at once; slow down.'));
					const raw = typeof event.data === 'string' ? event.data : null;
					if (raw === null) return send(ws, error('bad_request', 'Frames must be JSON text.'));
					if (Buffer.byteLength(raw) > maxBytes)
						return send(ws, error('too_large', `Frames are limited to ${maxBytes} bytes.`));
					let data: unknown;
					try {
						data = JSON.parse(raw);
					} catch {
						return send(ws, error('bad_request', 'Frame is not valid JSON.'));
					}
					if (data && typeof data === 'object' && 'v' in data && data.v !== PROTOCOL_VERSION)
						return send(
							ws,
							error(
								'unsupported_version',
								`This server speaks protocol version ${PROTOCOL_VERSION}.`
							)
						);
					const parsed = v.safeParse(ClientMessage, data);
					if (!parsed.success) {
						const issue = parsed.issues[0];
						const field = issue.path?.map((p) => String(p.key)).join('.');
						return send(
							ws,
							error('bad_request', `Invalid message: ${field ? `${field} ` : ''}${issue.message}`)
						);
					}
					withRequestContext({ requestId, userId: user.id }, () =>
						handle(ws, parsed.output).catch((err) => {
							logger().error({ err, type: parsed.output.type }, 'websocket message failed');
							send(
								ws,
								error('internal', `Something went wrong on our side (reference ${requestId}).`)
							);
						})
					);
				},
				onClose() {
					metrics.websocketClosed();
					if (opened) sessions.untrack(user.id, opened);
					for (const sub of subscriptions.values()) tutor.fanout.remove(sub);
					subscriptions.clear();
					logger().debug({ reqId: requestId, userId: user.id }, 'websocket closed');
				}
			};
		})
	);

	app.notFound((c) => c.json({ error: 'not found' }, 404));
	app.onError((err, c) => {
		if (err instanceof HTTPException) return c.json({ error: err.message }, err.status);
		logger().error({ err }, 'websocket app error');
		return c.json({ error: 'internal error', requestId: c.get('requestId') }, 500);
	});
	return app;
}

function error(code: ErrorCode, message: string): ServerMessage {
	return { v: PROTOCOL_VERSION, type: 'error', code, message };
}
