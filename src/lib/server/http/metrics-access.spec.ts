import { describe, expect, it } from 'vitest';
import { isPrivateAddress, metricsAccess } from './metrics-access';

describe('isPrivateAddress', () => {
	it('admits loopback and private networks, IPv4-mapped ones too', () => {
		for (const address of [
			'127.0.0.1',
			'127.8.9.10',
			'10.0.0.1',
			'10.255.255.255',
			'172.16.0.1',
			'172.31.255.254',
			'192.168.1.20',
			'::1',
			'fc00::1',
			'fd12:3456:789a::1',
			'::ffff:127.0.0.1',
			'::ffff:10.1.2.3',
			'::FFFF:192.168.0.1'
		])
			expect(isPrivateAddress(address), address).toBe(true);
	});

	it('refuses public addresses, the edges of the private ranges and non-addresses', () => {
		for (const address of [
			'8.8.8.8',
			'172.15.255.255',
			'172.32.0.1',
			'192.169.0.1',
			'11.0.0.1',
			'9.255.255.255',
			'::ffff:8.8.8.8',
			'2001:db8::1',
			'fe00::1',
			'::',
			'0.0.0.0',
			'localhost',
			'10.0.0.1.evil.example',
			'',
			undefined
		])
			expect(isPrivateAddress(address), String(address)).toBe(false);
	});
});

const TOKEN = 'a3f1c9e07b2d4e6f8a0b1c2d3e4f5a6b';
const headers = (h: Record<string, string> = {}) => new Headers(h);

describe('metricsAccess without METRICS_TOKEN', () => {
	it('serves a private peer that talks to the app directly', () => {
		for (const peerAddress of ['127.0.0.1', '::1', '10.0.3.7', '::ffff:172.18.0.5'])
			expect(metricsAccess({ token: undefined, peerAddress, headers: headers() })).toEqual({
				ok: true
			});
	});

	it('refuses a public peer', () => {
		const verdict = metricsAccess({
			token: undefined,
			peerAddress: '203.0.113.9',
			headers: headers()
		});
		expect(verdict).toMatchObject({ ok: false, status: 403 });
	});

	it('refuses requests relayed by a proxy, even from a private address', () => {
		for (const h of [
			{ 'x-forwarded-for': '203.0.113.9' } as Record<string, string>,
			{ 'x-forwarded-for': '10.0.0.2' },
			{ forwarded: 'for=203.0.113.9' },
			{ 'x-real-ip': '203.0.113.9' }
		])
			expect(
				metricsAccess({ token: undefined, peerAddress: '172.18.0.3', headers: headers(h) }),
				JSON.stringify(h)
			).toMatchObject({ ok: false, status: 403 });
	});
});

describe('metricsAccess with METRICS_TOKEN', () => {
	const ask = (authorization: string | undefined, peerAddress = '127.0.0.1') =>
		metricsAccess({
			token: TOKEN,
			peerAddress,
			headers: headers(authorization === undefined ? {} : { authorization })
		});

	it('serves the right Bearer token from anywhere', () => {
		expect(ask(`Bearer ${TOKEN}`)).toEqual({ ok: true });
		expect(ask(`bearer ${TOKEN}`, '203.0.113.9')).toEqual({ ok: true });
	});

	it('answers 401 to a missing, wrong, truncated or differently-sent token, even on loopback', () => {
		for (const authorization of [
			undefined,
			'',
			'Bearer',
			'Bearer wrong',
			`Bearer ${TOKEN.slice(0, -1)}`,
			`Bearer ${TOKEN}x`,
			`Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}`,
			TOKEN
		])
			expect(ask(authorization), String(authorization)).toMatchObject({ ok: false, status: 401 });
	});

	it('never repeats the token in its answer', () => {
		const verdict = ask('Bearer wrong');
		expect(JSON.stringify(verdict)).not.toContain(TOKEN);
	});
});
