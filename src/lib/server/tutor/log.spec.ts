import { describe, expect, it } from 'vitest';
import type { LogEvent } from '#lib/ws/protocol.ts';
import { fromRows, toRows } from './log.ts';

const events: LogEvent[] = [
	{ seq: 1, type: 'user', messageId: 'u1', text: 'hi', clientId: 'c1' },
	{ seq: 2, type: 'start', messageId: 'a1' },
	{ seq: 3, type: 'delta', messageId: 'a1', text: 'Hel' },
	{ seq: 4, type: 'delta', messageId: 'a1', text: 'lo' },
	{ seq: 5, type: 'delta', messageId: 'a1', text: '!' },
	{ seq: 6, type: 'done', messageId: 'a1' }
];

describe('event log rows', () => {
	it('merges consecutive deltas into one row and expands them back exactly', () => {
		const rows = toRows('c', events);
		expect(rows.map((r) => [r.type, r.firstSeq, r.seq])).toEqual([
			['user', 1, 1],
			['start', 2, 2],
			['delta', 3, 5],
			['done', 6, 6]
		]);
		expect(fromRows(rows, 0)).toEqual(events);
	});

	it('replays from the middle of a merged row without repeating text', () => {
		const rows = toRows('c', events);
		expect(fromRows(rows, 3).map((e) => e.seq)).toEqual([4, 5, 6]);
		expect(fromRows(rows, 6)).toEqual([]);
	});

	it('never merges across a gap in sequence numbers or across messages', () => {
		const rows = toRows('c', [
			{ seq: 3, type: 'delta', messageId: 'a', text: 'x' },
			{ seq: 5, type: 'delta', messageId: 'a', text: 'y' },
			{ seq: 6, type: 'delta', messageId: 'b', text: 'z' }
		]);
		expect(rows.length).toBe(3);
	});
});
