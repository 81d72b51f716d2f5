import { describe, expect, it } from 'vitest';
import { formatDate } from './format';

describe('formatDate', () => {
	const at = '2026-12-07T10:40:05Z';

	it('writes what toLocaleString writes with the same options', () => {
		const d = new Date(at);
		expect(formatDate.dateTime(at)).toBe(
			d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
		);
		expect(formatDate.dateTimeSeconds(d)).toBe(
			d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
		);
		expect(formatDate.date(at)).toBe(d.toLocaleDateString(undefined, { dateStyle: 'medium' }));
		expect(formatDate.longDate(at)).toBe(d.toLocaleDateString(undefined, { dateStyle: 'long' }));
		expect(formatDate.time(at)).toBe(d.toLocaleTimeString(undefined, { timeStyle: 'medium' }));
	});

	it('shows a UTC day as that day in any time zone', () => {
		const midnight = new Date('2026-12-07T00:00:00Z');
		expect(formatDate.day('2026-12-07')).toBe(
			midnight.toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' })
		);
		expect(formatDate.shortDay('2026-12-07')).toBe(
			midnight.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })
		);
	});
});
