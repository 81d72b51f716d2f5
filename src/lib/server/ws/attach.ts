/**
 * Hands `/ws/` upgrades of an existing node:http server (ours in production, Vite's in development)
 * to the Hono app through @hono/node-server's WebSocket support (patched so an open socket does
 * not keep its handshake's context alive: see patches/README.md).
 *
 * @example
 * const sockets = attachWebSockets(server, createWsApp(), { maxPayload: 1 << 20, exclusive: true });
 * sockets.closeAll(1012, 'restarting');
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { observeHttpRequest, ROUTE } from '#lib/server/metrics.ts';

interface FetchApp {
	fetch: (request: Request, env: never) => Response | Promise<Response>;
}

export function attachWebSockets(
	server: Server,
	app: FetchApp | (() => Promise<FetchApp>),
	options: { maxPayload: number; exclusive: boolean }
) {
	const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
	let inner: Server | undefined;
	const load = async () => {
		if (inner) return inner;
		const resolved = typeof app === 'function' ? await app() : app;
		// Never listens: it only runs the adaptor's upgrade handling for the sockets we pass it.
		inner = createAdaptorServer({
			fetch: resolved.fetch as never,
			websocket: { server: wss }
		}) as Server;
		return inner;
	};
	server.on('upgrade', (req, socket, head) => {
		// node:http removed its own error listener: a peer's reset must not become an uncaught error.
		socket.on('error', destroyOnError);
		if (!req.url?.startsWith('/ws/')) {
			if (options.exclusive) {
				observeHttpRequest(req.method ?? 'GET', ROUTE.websocket, 404, 0);
				socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
			}
		} else if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
			// Another protocol (h2c, ...): the adaptor would leave it unanswered and open.
			observeHttpRequest(req.method ?? 'GET', ROUTE.websocket, 400, 0);
			const body = 'Only WebSocket upgrades are served here.';
			socket.end(
				`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`
			);
		} else {
			// destroyOnError is not a closure: one would keep the handshake's request and first bytes
			// alive as long as the socket.
			load().then(
				(s) => {
					s.emit('upgrade', req, socket, head);
					// The adaptor has begun watching for errors (synchronously, before it awaits).
					if (socket.listenerCount('error') > 1) socket.off('error', destroyOnError);
				},
				() => socket.destroy()
			);
		}
	});
	return {
		wss,
		get open() {
			return wss.clients.size;
		},
		closeAll(code: number, reason: string) {
			for (const client of wss.clients) client.close(code, reason);
		}
	};
}

function destroyOnError(this: Duplex) {
	this.destroy();
}
