/**
 * Production entry (`npm start`, the Docker image): one node:http server on one port.
 * `/ws/*` upgrades go to the Hono app; everything else to SvelteKit's adapter-node handler.
 */
import http from 'node:http';
import { ConfigError } from '#lib/server/config.ts';
import { loadEnvFile } from '#lib/server/env-file.ts';
import { handOver } from '#lib/server/http/handover.ts';
import { createProxyTrust } from '#lib/server/http/proxy.ts';
import { ISOLATION_HEADERS, labCacheControl, needsIsolation } from '#lib/server/http/isolation.ts';
import { logger } from '#lib/server/log.ts';
import { observeHttpRequest, routeOf } from '#lib/server/metrics.ts';
import * as rateLimit from '#lib/server/rate-limit.ts';
import { startServices, stopServices, type Services } from '#lib/server/services.ts';
import { attachWebSockets } from '#lib/server/ws/attach.ts';
import { createWsApp } from '#lib/server/ws/app.ts';
import { CLOSE_SERVER_RESTART } from '#lib/ws/protocol.ts';

loadEnvFile();

let services: Services;
try {
	services = await startServices(process.env);
} catch (error) {
	if (error instanceof ConfigError) {
		process.stderr.write(`${error.message}\n\nSee .env.example for every setting.\n`);
	} else {
		process.stderr.write(`Start-up failed: ${(error as Error).message}\n`);
	}
	process.exit(1);
}
const { config, database } = services;

// adapter-node reads the client's protocol and address from the headers named here. We name our own
// and write them on every request from the operator's PROTOCOL_HEADER and ADDRESS_HEADER, believed
// only from TRUSTED_PROXIES, so no client can choose them (and plain HTTP on a laptop stays http).
const OWN_PROTOCOL_HEADER = 'x-tutor-protocol';
const OWN_ADDRESS_HEADER = 'x-tutor-client-address';
process.env.PROTOCOL_HEADER = OWN_PROTOCOL_HEADER;
process.env.ADDRESS_HEADER = OWN_ADDRESS_HEADER;
delete process.env.XFF_DEPTH;
const proxy = createProxyTrust(config.proxy);

// adapter-node's handler starts SvelteKit; each request brings it the services (handOver below).
const { handler } = (await import(new URL('./handler.js', import.meta.url).href)) as {
	handler: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;
};

const server = http.createServer((req, res) => {
	// Every request, static files and errors included, labelled with the route SvelteKit noted.
	const started = performance.now();
	res.once('close', () =>
		observeHttpRequest(
			req.method ?? 'GET',
			routeOf(req),
			res.statusCode,
			(performance.now() - started) / 1000
		)
	);
	req.headers[OWN_PROTOCOL_HEADER] = proxy.protocol(req);
	req.headers[OWN_ADDRESS_HEADER] = proxy.clientAddress(req);
	// Static files never reach SvelteKit's hooks, so the lab's isolation headers are set here.
	if (needsIsolation(req.url)) {
		for (const [name, value] of ISOLATION_HEADERS) res.setHeader(name, value);
		res.setHeader('cache-control', labCacheControl(req.url)!);
	}
	handOver(req, services);
	handler(req, res, () => {
		res.statusCode = 404;
		res.end('Not found');
	});
});
server.keepAliveTimeout = 65_000;
const sockets = attachWebSockets(server, createWsApp(services), {
	maxPayload: config.wsMaxPayloadBytes * 4,
	exclusive: true
});

const sweep = setInterval(() => {
	rateLimit.sweep(database.db).catch((err) => logger().warn({ err }, 'rate limit sweep failed'));
}, 3_600_000);
sweep.unref();

server.listen(config.port, config.host, () => {
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : config.port;
	const shown = config.host === '0.0.0.0' ? 'localhost' : config.host;
	logger().info(
		{ port, host: config.host, database: database.kind, llmProvider: config.llm.provider },
		`AI Coding Tutor listening on http://${shown}:${port}`
	);
});

let stopping = false;
/**
 * SIGTERM (docker stop, a rolling upgrade): stop accepting, tell WebSocket clients to resume on
 * another replica (close code 1012; their answers keep streaming from the log there), let in-flight
 * requests and running answers finish, and save whatever is left as interrupted. Everything shares
 * one SHUTDOWN_GRACE_SECONDS budget, so compose's stop_grace_period can be set just above it.
 */
async function shutdown(signal: string) {
	if (stopping) return;
	stopping = true;
	const graceMs = config.shutdownGraceSeconds * 1000;
	const deadline = Date.now() + graceMs;
	logger().info({ signal, graceMs }, 'shutting down: no new connections, finishing in-flight work');
	clearInterval(sweep);
	server.close();
	server.closeIdleConnections();
	sockets.closeAll(CLOSE_SERVER_RESTART, 'server restarting');
	const cutoff = setTimeout(() => server.closeAllConnections(), graceMs);
	cutoff.unref();
	await new Promise<void>((resolve) => server.once('close', () => resolve()));
	await stopServices(services, Math.max(0, deadline - Date.now()));
	logger().info('stopped');
	process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
