import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ENTRY, ROOT } from '../helpers/server.ts';

function start(env: Record<string, string>) {
	return spawnSync(process.execPath, [ENTRY], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? '',
			NODE_ENV: 'production',
			DATA_DIR: '/tmp/tutor-prod-never',
			...env
		},
		encoding: 'utf8',
		timeout: 20_000
	});
}

describe('production start-up', () => {
	it('exits non-zero naming JWT_SECRET_KEY when it is too short', () => {
		const r = start({
			JWT_SECRET_KEY: 'too-short',
			DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
			LLM_PROVIDER: 'offline'
		});
		expect(r.status).not.toBe(0);
		expect(r.stderr).toMatch(/JWT_SECRET_KEY is too short/);
	});

	it('lists every missing production setting at once', () => {
		const r = start({});
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/JWT_SECRET_KEY is required/);
		expect(r.stderr).toMatch(/DATABASE_URL is required/);
		expect(r.stderr).toMatch(/no LLM key is set/);
		expect(r.stderr).toMatch(/\.env\.example/);
	});

	it('fails clearly when the database cannot be reached', () => {
		const r = start({
			JWT_SECRET_KEY: 'p'.repeat(48),
			DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
			LLM_PROVIDER: 'offline'
		});
		expect(r.status).toBe(1);
		expect(r.stderr).toMatch(/Start-up failed/);
	});
});
