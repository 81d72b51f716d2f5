/**
 * Who is asking, behind a reverse proxy: the client address and protocol come from the proxy's
 * headers (ADDRESS_HEADER, PROTOCOL_HEADER) only when the peer is one of TRUSTED_PROXIES; from any
 * other peer those headers are the client's own words and are ignored.
 *
 * @example
 * const proxy = createProxyTrust({ addressHeader: 'x-forwarded-for', protocolHeader: 'x-forwarded-proto', trusted: ['private_ranges'] });
 * proxy.clientAddress(req); // '203.0.113.7'
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Named ranges, as Caddy names them: `private_ranges` also covers loopback. */
const NAMED: Record<string, string[]> = {
	loopback: ['127.0.0.0/8', '::1/128'],
	private_ranges: [
		'127.0.0.0/8',
		'::1/128',
		'10.0.0.0/8',
		'172.16.0.0/12',
		'192.168.0.0/16',
		'fc00::/7'
	]
};

export interface ProxySettings {
	/** Lower-case header names, or undefined when the app is reached directly. */
	addressHeader?: string;
	protocolHeader?: string;
	/** Addresses, CIDR ranges, `loopback` or `private_ranges`. */
	trusted: readonly string[];
}

/** Throws on an entry that is not an address, a range or a known name (checked at start-up). */
export function trustList(entries: readonly string[]): BlockList {
	const list = new BlockList();
	for (const entry of entries.flatMap((e) => NAMED[e] ?? [e])) {
		const [address = '', bits] = entry.split('/');
		const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
		if (!isIP(address) || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
			throw new Error(`"${entry}" is not an address, a CIDR range, loopback or private_ranges`);
		if (bits === undefined) list.addAddress(address, family);
		else list.addSubnet(address, Number(bits), family);
	}
	return list;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plain(address: string): string {
	return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function createProxyTrust(settings: ProxySettings) {
	const list = trustList(settings.trusted);
	const trusted = (address: string) => {
		const family = isIP(address);
		return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
	};
	const peerOf = (req: IncomingMessage) => plain(req.socket.remoteAddress ?? '');
	const header = (req: IncomingMessage, name: string) => {
		const value = req.headers[name];
		return Array.isArray(value) ? value.join(',') : value;
	};
	return {
		trusted,
		/**
		 * The peer, or from a trusted peer the right-most address in the header that is not itself
		 * a trusted proxy (left of that, the client could have written anything).
		 */
		clientAddress(req: IncomingMessage): string {
			let address = peerOf(req);
			const value = settings.addressHeader && header(req, settings.addressHeader);
			if (!value || !trusted(address)) return address;
			const hops = value.split(',').map((hop) => plain(hop.trim()));
			for (let i = hops.length - 1; i >= 0; i--) {
				if (!isIP(hops[i]!)) break;
				address = hops[i]!;
				if (!trusted(address)) break;
			}
			return address;
		},
		/** `https` only when a trusted proxy says so; a direct connection is plain HTTP. */
		protocol(req: IncomingMessage): 'http' | 'https' {
			const value = settings.protocolHeader && header(req, settings.protocolHeader);
			if (!value || !trusted(peerOf(req))) return 'http';
			return value.split(',')[0]!.trim().toLowerCase() === 'https' ? 'https' : 'http';
		}
	};
}
