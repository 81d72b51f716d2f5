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
import { ClientMessage, PROTOCOL_VERSION, type ServerMessage } from '#lib/ws/protocol.ts';
import * as accounts from '../auth/accounts';
import { logger, requestIdFrom, withRequestContext } from '../log';
import { runtime } from '../runtime';
import { cookieAuth, originGuard, type WsEnv } from './guards';

function send(ws: { send(data: string): void }, message: ServerMessage) {
	ws.send(JSON.stringify(message));
}

export function createWsApp() {
	const deps = () => ({ db: runtime().database.db, config: runtime().config });
	const app = new Hono<WsEnv>().basePath('/ws');

	app.use(async (c, next) => {
		const requestId = requestIdFrom(c.req.header('x-request-id'));
		c.set('requestId', requestId);
		await withRequestContext({ requestId }, next);
		c.header('x-request-id', requestId);
	});
	app.use('/v1', originGuard({ allowed: () => runtime().config.allowedOrigins }));
	app.use(
		'/v1',
		cookieAuth({ authenticate: (token) => accounts.userFromAccessToken(deps(), token) })
	);

	app.get(
		'/v1',
		upgradeWebSocket((c) => {
			const user = c.get('user');
			const requestId = c.get('requestId');
			const maxBytes = runtime().config.wsMaxPayloadBytes;
			return {
				onOpen(_event, ws) {
					logger().info({ reqId: requestId, userId: user.id }, 'websocket open');
					send(ws, {
						v: PROTOCOL_VERSION,
						type: 'ready',
						user: { id: user.id, displayName: user.displayName }
					});
				},
				onMessage(event, ws) {
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
					if (!parsed.success)
						return send(ws, error('bad_request', `Invalid message: ${parsed.issues[0].message}`));
					const message = parsed.output;
					if (message.type === 'ping')
						send(ws, { v: PROTOCOL_VERSION, type: 'pong', id: message.id });
				},
				onClose() {
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

function error(
	code: 'bad_request' | 'too_large' | 'unsupported_version',
	message: string
): ServerMessage {
	return { v: PROTOCOL_VERSION, type: 'error', code, message };
}
