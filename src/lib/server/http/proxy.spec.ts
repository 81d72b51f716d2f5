import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { createProxyTrust, trustList } from './proxy.ts';

const req = (peer: string, headers: Record<string, string> = {}) =>
	({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

describe('proxy trust', () => {
	const proxy = createProxyTrust({
		addressHeader: 'x-forwarded-for',
		protocolHeader: 'x-forwarded-proto',
		trusted: ['private_ranges']
	});

	it('takes the client from a trusted proxy: the right-most address that is not a proxy', () => {
		const xff = { 'x-forwarded-for': '198.51.100.9, 203.0.113.7, 10.0.0.3' };
		expect(proxy.clientAddress(req('::ffff:172.18.0.2', xff))).toBe('203.0.113.7');
		expect(proxy.clientAddress(req('10.0.0.2', { 'x-forwarded-for': '10.0.0.9' }))).toBe(
			'10.0.0.9'
		);
		expect(proxy.protocol(req('172.18.0.2', { 'x-forwarded-proto': 'https' }))).toBe('https');
	});

	it('ignores the headers from any other peer', () => {
		const spoof = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
		expect(proxy.clientAddress(req('198.51.100.1', spoof))).toBe('198.51.100.1');
		expect(proxy.protocol(req('198.51.100.1', spoof))).toBe('http');
	});

	it('stops at a malformed hop rather than believing what is left of it', () => {
		const xff = { 'x-forwarded-for': '203.0.113.7, not-an-ip, 10.0.0.3' };
		expect(proxy.clientAddress(req('10.0.0.2', xff))).toBe('10.0.0.3');
	});

	it('with no header named, the peer is the client', () => {
		const direct = createProxyTrust({ trusted: ['loopback'] });
		expect(direct.clientAddress(req('127.0.0.1', { 'x-forwarded-for': '1.2.3.4' }))).toBe(
			'127.0.0.1'
		);
		expect(direct.protocol(req('127.0.0.1', { 'x-forwarded-proto': 'https' }))).toBe('http');
	});

	it('accepts addresses, ranges and names, and refuses anything else', () => {
		expect(() => trustList(['10.1.2.3', '172.16.0.0/12', 'fd00::/8', 'loopback'])).not.toThrow();
		expect(() => trustList(['example.com'])).toThrow(/not an address/);
		expect(() => trustList(['10.0.0.0/abc'])).toThrow(/not an address/);
	});
});
