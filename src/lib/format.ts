/**
 * Formatting shared by the pages. Dollar amounts of AI calls are often fractions of a cent, so small
 * amounts keep more digits. Date formatters are made once: a `toLocaleString` with options builds a
 * new one per call (about 70 µs), which a page of 50 rows feels.
 *
 * @example
 * usd(0.00042) // "$0.00042"; usd(12.5) // "$12.50"
 * formatDate.dateTime('2026-12-07T10:40:00Z') // "Dec 7, 2026, 10:40 AM" (en-US)
 */
const whole = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const small = new Intl.NumberFormat('en-US', {
	style: 'currency',
	currency: 'USD',
	maximumSignificantDigits: 2
});
const integer = new Intl.NumberFormat('en-US');

/** Dollars: cents from one cent up, two significant digits below it, "$0.00" for nothing. */
export function usd(amount: number): string {
	if (amount === 0) return '$0.00';
	return Math.abs(amount) < 0.01 ? small.format(amount) : whole.format(amount);
}

/** A share from 0 to 1 as a percentage; a dash when there is nothing to divide. */
export function percent(share: number | null, digits = 1): string {
	if (share === null) return '—';
	return `${(share * 100).toFixed(digits).replace(/\.0+$/, '')}%`;
}

/** An integer with thousands separators. */
export function count(n: number): string {
	return integer.format(n);
}

/** Milliseconds, or seconds from one second up; a dash when unknown. */
export function duration(ms: number | null): string {
	if (ms === null) return '—';
	return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Dates in the reader's locale (on the server, the process's). */
function formatter(options: Intl.DateTimeFormatOptions) {
	const format = new Intl.DateTimeFormat(undefined, options);
	return (value: Date | string) => format.format(new Date(value));
}

/** A UTC day such as `2026-12-07` (the reports' days), shown as that day wherever the reader is. */
function dayFormatter(options: Intl.DateTimeFormatOptions) {
	const format = formatter({ ...options, timeZone: 'UTC' });
	return (day: string) => format(`${day}T00:00:00Z`);
}

export const formatDate = {
	dateTime: formatter({ dateStyle: 'medium', timeStyle: 'short' }),
	dateTimeSeconds: formatter({ dateStyle: 'medium', timeStyle: 'medium' }),
	date: formatter({ dateStyle: 'medium' }),
	longDate: formatter({ dateStyle: 'long' }),
	time: formatter({ timeStyle: 'medium' }),
	day: dayFormatter({ dateStyle: 'medium' }),
	shortDay: dayFormatter({ month: 'short', day: 'numeric' })
};
