import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ClientMessage, MAX_MESSAGE_CHARS, MAX_SEQ, ServerMessage } from './protocol.ts';

const conversationId = '0b7f9a52-3c1e-4d8e-9f6a-2b4c6d8e0f12';

/** Parses a frame as the server does: JSON text first, so only what JSON can carry arrives. */
const parse = (frame: unknown) => v.safeParse(ClientMessage, JSON.parse(JSON.stringify(frame)));
const subscribe = (since: unknown) => ({ v: 1, type: 'subscribe', conversationId, since });
/** The field the first issue is about, as the server names it in its bad_request message. */
const field = (result: ReturnType<typeof parse>) =>
	result.success ? undefined : result.issues[0].path?.map((p) => String(p.key)).join('.');

describe('ClientMessage numeric ranges', () => {
	it('the largest sequence number is PostgreSQL integer’s', () => {
		expect(MAX_SEQ).toBe(2 ** 31 - 1);
	});

	it.each([0, 1, 42, 2 ** 31 - 1])('subscribe accepts since: %s', (since) => {
		const result = parse(subscribe(since));
		expect(result.success).toBe(true);
		expect(result.output).toMatchObject({ since });
	});

	it('subscribe accepts no since (asks for a snapshot)', () => {
		const result = parse({ v: 1, type: 'subscribe', conversationId });
		expect(result.success).toBe(true);
		expect(result.output).not.toHaveProperty('since');
	});

	it.each([
		['2^31, past PostgreSQL integer', 2 ** 31],
		['2^53', 2 ** 53],
		['1e308', 1e308],
		['negative', -1],
		['fractional', 1.5],
		['a tiny fraction', 1e-9]
	])('subscribe refuses since %s', (_, since) => {
		const result = parse(subscribe(since));
		expect(result.success).toBe(false);
		expect(field(result)).toBe('since');
	});

	it.each([
		['NaN', Number.NaN],
		['Infinity', Number.POSITIVE_INFINITY],
		['-Infinity', Number.NEGATIVE_INFINITY]
	])('subscribe refuses since %s given directly (not through JSON)', (_, since) => {
		const result = v.safeParse(ClientMessage, subscribe(since));
		expect(result.success).toBe(false);
		expect(field(result)).toBe('since');
	});

	it.each([
		['"NaN"', '"NaN"'],
		['"5"', '"5"'],
		['"1e3"', '"1e3"'],
		['null (what JSON makes of NaN)', 'null'],
		['true', 'true'],
		['[1]', '[1]'],
		['{}', '{}'],
		['1e400 (Infinity once parsed)', '1e400'],
		['-1e400', '-1e400']
	])('subscribe refuses since %s in a frame', (_, json) => {
		const frame = `{"v":1,"type":"subscribe","conversationId":"${conversationId}","since":${json}}`;
		const result = v.safeParse(ClientMessage, JSON.parse(frame));
		expect(result.success).toBe(false);
		expect(field(result)).toBe('since');
	});
});

describe('ClientMessage string lengths', () => {
	const send = (overrides: object) => ({
		v: 1,
		type: 'send',
		conversationId,
		clientId: 'client-0001',
		text: 'hello',
		...overrides
	});

	it('accepts strings at their limits', () => {
		expect(
			parse(send({ clientId: 'c'.repeat(64), text: 'x'.repeat(MAX_MESSAGE_CHARS) })).success
		).toBe(true);
		expect(parse({ v: 1, type: 'ping', id: 'p'.repeat(64) }).success).toBe(true);
	});

	it.each([
		['send.clientId too long', send({ clientId: 'c'.repeat(65) }), 'clientId'],
		['send.clientId too short', send({ clientId: 'c'.repeat(7) }), 'clientId'],
		['send.text too long', send({ text: 'x'.repeat(MAX_MESSAGE_CHARS + 1) }), 'text'],
		['send.text blank', send({ text: '   ' }), 'text'],
		['ping.id too long', { v: 1, type: 'ping', id: 'p'.repeat(65) }, 'id'],
		[
			'a long conversationId',
			{ ...subscribe(1), conversationId: 'x'.repeat(10_000) },
			'conversationId'
		]
	])('refuses %s', (_, frame, key) => {
		const result = parse(frame);
		expect(result.success).toBe(false);
		expect(field(result)).toBe(key);
	});
});

describe('ServerMessage sequence numbers', () => {
	const snapshot = (seq: number) => ({
		v: 1,
		type: 'snapshot',
		conversationId,
		seq,
		title: 't',
		generating: false,
		messages: []
	});

	it('accepts what an integer column holds and refuses what it cannot', () => {
		expect(v.safeParse(ServerMessage, snapshot(2 ** 31 - 1)).success).toBe(true);
		expect(v.safeParse(ServerMessage, snapshot(2 ** 31)).success).toBe(false);
		expect(v.safeParse(ServerMessage, snapshot(-1)).success).toBe(false);
		expect(v.safeParse(ServerMessage, snapshot(0.5)).success).toBe(false);
	});
});
