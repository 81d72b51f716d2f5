import { metricsAccess } from '#lib/server/http/metrics-access.ts';
import { METRICS_CONTENT_TYPE, metricsText } from '#lib/server/metrics.ts';
import type { RequestHandler } from './$types';

/** Prometheus scrape target; who may read it is decided in metrics-access.ts. */
export const GET: RequestHandler = async ({ locals, request, platform, getClientAddress }) => {
	const verdict = metricsAccess({
		token: locals.services.config.metricsToken,
		// The socket's own peer: getClientAddress() follows ADDRESS_HEADER, which a client can write.
		// `vite preview` has no platform; there the address is the socket's, too.
		peerAddress: platform ? platform.req.socket.remoteAddress : getClientAddress(),
		headers: request.headers
	});
	if (!verdict.ok)
		return new Response(verdict.message, {
			status: verdict.status,
			headers: {
				'content-type': 'text/plain; charset=utf-8',
				...(verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="metrics"' } : {})
			}
		});
	return new Response(await metricsText(), {
		headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }
	});
};
