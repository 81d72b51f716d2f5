import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createLogger } from './log.ts';

describe('logging a failed query', () => {
	it('keeps the statement and the error, never the values', () => {
		let out = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				out += chunk;
				done();
			}
		});
		const cause = Object.assign(new Error('duplicate key value violates unique constraint'), {
			code: '23505',
			parameters: ['ada@example.com', 'hunter2-password'],
			args: ['ada@example.com', 'hunter2-password']
		});
		const err = new DrizzleQueryError(
			'insert into "users" ("email", "password_hash") values ($1, $2)',
			['ada@example.com', 'hunter2-password'],
			cause
		);
		createLogger('info', sink).error({ err }, 'registering failed');
		expect(out).toContain('insert into \\"users\\"');
		expect(out).toContain('duplicate key value');
		expect(out).not.toContain('hunter2');
		expect(out).not.toContain('ada@example.com');
	});
});
