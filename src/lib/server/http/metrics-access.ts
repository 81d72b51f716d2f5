/**
 * Who may read `/metrics`. With METRICS_TOKEN set: whoever sends `Authorization: Bearer <token>`.
 * Without it: only a scraper on the same host or a private network, talking to the app directly;
 * anything relayed by the reverse proxy (it adds X-Forwarded-For) is refused, so the public site
 * never shows the metrics even though the proxy itself connects from a private address.
 *
 * @example
 * const verdict = metricsAccess({ token: config.metricsToken, peerAddress, headers: request.headers });
 * if (!verdict.ok) return new Response(verdict.message, { status: verdict.status });
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** Headers a proxy adds when it relays a request. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** True for loopback and private-network addresses (RFC 1918, fc00::/7), IPv4-mapped ones too. */
export function isPrivateAddress(address: string | undefined): boolean {
	if (!address) return false;
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	const plain = mapped ? mapped[1]! : address;
	if (isIPv4(plain)) return PRIVATE.check(plain, 'ipv4');
	if (isIPv6(plain)) return PRIVATE.check(plain, 'ipv6');
	return false;
}

/** Compares without revealing, through timing, how much of the token was right (or its length). */
function sameSecret(given: string, expected: string) {
	const digest = (s: string) => createHash('sha256').update(s).digest();
	return timingSafeEqual(digest(given), digest(expected));
}

export type MetricsVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

export function metricsAccess(request: {
	/** METRICS_TOKEN, when configured. */
	token: string | undefined;
	/** The address of the TCP peer (never one read from a header). */
	peerAddress: string | undefined;
	headers: Headers;
}): MetricsVerdict {
	if (request.token) {
		const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
		if (match && sameSecret(match[1]!, request.token)) return { ok: true };
		return { ok: false, status: 401, message: 'Send the metrics token as a Bearer token.' };
	}
	if (PROXY_HEADERS.some((name) => request.headers.has(name)))
		return {
			ok: false,
			status: 403,
			message: 'Metrics are not served through the proxy; scrape the app directly.'
		};
	if (!isPrivateAddress(request.peerAddress))
		return {
			ok: false,
			status: 403,
			message: 'Metrics are served to private networks only, or with METRICS_TOKEN.'
		};
	return { ok: true };
}
