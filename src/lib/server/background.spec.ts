import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import * as background from './background.ts';
import { createLogger, setLogger } from './log.ts';

function captureLog() {
	let out = '';
	const sink = new Writable({
		write(chunk, _encoding, done) {
			out += chunk;
			done();
		}
	});
	setLogger(createLogger('info', sink));
	return () => out;
}

describe('background tasks', () => {
	it('run after the caller returns, and settled() waits for them', async () => {
		const steps: string[] = [];
		background.run('test task', async () => {
			steps.push('task started');
			await new Promise<void>((resolve) => setImmediate(resolve));
			steps.push('task done');
		});
		steps.push('caller returned');
		await background.settled();
		expect(steps).toEqual(['caller returned', 'task started', 'task done']);
	});

	it('log a failure by name and code, never its message', async () => {
		const log = captureLog();
		background.run('reset mail', async () => {
			const refusal = Object.assign(new Error('550 <sam@example.com> token=abc123 rejected'), {
				code: 'EENVELOPE',
				responseCode: 550
			});
			throw refusal;
		});
		await background.settled();
		expect(log()).toContain('reset mail failed');
		expect(log()).toContain('EENVELOPE');
		expect(log()).toContain('550');
		expect(log()).not.toContain('sam@example.com');
		expect(log()).not.toContain('abc123');
	});
});
