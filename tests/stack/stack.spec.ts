/**
 * compose.prod.yaml as an operator runs it, started by tests/stack/run.sh (two app replicas,
 * PostgreSQL, the backup job, Caddy with its internal CA): checked from outside, through the proxy
 * over HTTPS and wss://, then by killing and stopping the replica that owns a streaming answer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/server.ts';
import { TestSocket } from '../helpers/ws.ts';

const dir = process.env.STACK_DIR ?? '';
const base = 'https://localhost';
const wsUrl = 'wss://localhost/ws/v1';

const run = (cmd: string, args: string[]) =>
	execFileSync(cmd, args, {
		cwd: dir,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe']
	}).replace(/\n$/, '');
const compose = (...args: string[]) => run('docker-compose', args);
const docker = (...args: string[]) => run('docker', args);
const psql = (query: string, service = 'db') =>
	compose('exec', '-T', service, 'psql', '-U', 'tutor', '-d', 'tutor', '-Atc', query);
const appContainers = () => compose('ps', '-q', 'app').split('\n').filter(Boolean);
const health = (id: string) => docker('inspect', '-f', '{{.State.Health.Status}}', id);

async function until<T>(
	what: string,
	probe: () => T | undefined | Promise<T | undefined>,
	ms = 90_000
) {
	const end = Date.now() + ms;
	let last: unknown;
	while (Date.now() < end) {
		try {
			const value = await probe();
			if (value !== undefined && value !== false) return value;
		} catch (error) {
			last = error;
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

/** The container that owns the conversation's running answer (the replica id starts with its hostname). */
const ownerOf = (conversationId: string) =>
	until('an owner', () => {
		const owner = psql(`select lease_owner from conversations where id = '${conversationId}'`);
		return owner ? owner.split(':')[0]! : undefined;
	});

const answer = (conversationId: string) => {
	const [id, status, ...content] = psql(
		`select id, status, content from messages where conversation_id = '${conversationId}'
		 and role = 'assistant' order by seq desc limit 1`
	).split('|');
	return { id: id!, status: status!, content: content.join('|') };
};

describe.runIf(dir)('the production stack (compose.prod.yaml)', () => {
	let student: Client;

	beforeAll(async () => {
		const root = await until('Caddy’s local CA', () =>
			compose('exec', '-T', 'caddy', 'cat', '/data/caddy/pki/authorities/local/root.crt')
		);
		// Trust Caddy's internal CA in this process only: fetch and ws verify the real chain.
		tls.setDefaultCACertificates([...tls.getCACertificates('default'), root]);
		await until(
			'HTTPS through Caddy to a ready app',
			async () => (await fetch(`${base}/api/health`)).ok
		);
		await until(
			'two healthy replicas',
			() => {
				const ids = appContainers();
				return ids.length === 2 && ids.every((id) => health(id) === 'healthy');
			},
			180_000
		);
		student = new Client(base);
		const registered = await student.post('/register', {
			email: 'stack@example.com',
			displayName: 'Stack',
			password: 'stack password 1'
		});
		expect(registered.status).toBe(303);
	});

	it('runs each replica as a non-root user with a read-only code tree, healthy', () => {
		for (const id of appContainers()) {
			expect(health(id)).toBe('healthy');
			expect(docker('exec', id, 'id', '-u')).not.toBe('0');
			for (const file of ['/app/build/app.js', '/app/package.json', '/app/node_modules/x']) {
				const write = spawnSync('docker', ['exec', id, 'sh', '-c', `echo x >> ${file}`]);
				expect(write.status, file).not.toBe(0);
			}
			// DATA_DIR is the one writable place.
			expect(spawnSync('docker', ['exec', id, 'touch', '/data/probe']).status).toBe(0);
		}
	});

	it('serves pages over HTTPS with the security headers, and never /metrics', async () => {
		for (const page of ['/', '/login', '/register']) {
			const res = await fetch(`${base}${page}`);
			expect(res.status, page).toBe(200);
			expect(await res.text()).toMatch(/<html/i);
			expect(res.headers.get('strict-transport-security')).toContain('max-age=');
			expect(res.headers.get('content-security-policy')).toMatch(/'nonce-/);
		}
		const metrics = await fetch(`${base}/metrics`);
		expect(metrics.status).toBe(404);
		expect(await metrics.text()).not.toContain('tutor_');
		const insecure = await fetch('http://localhost/login', { redirect: 'manual' });
		expect(insecure.status).toBe(308);
		expect(insecure.headers.get('location')).toBe('https://localhost/login');
	});

	it('marks the Python lab cross-origin isolated', async () => {
		for (const url of [`${base}/jupyterlite/`, `${base}/jupyterlite/lab/index.html`]) {
			const res = await fetch(url);
			expect(res.status, url).toBe(200);
			await res.arrayBuffer();
			expect(res.headers.get('cross-origin-opener-policy'), url).toBe('same-origin');
			expect(res.headers.get('cross-origin-embedder-policy'), url).toBe('require-corp');
		}
	});

	async function ask(text: string, tokensFirst: number) {
		const created = await student.post('/tutor?/create', {});
		expect(created.status).toBe(303);
		const id = created.headers.get('location')!.split('/').pop()!;
		const socket = await TestSocket.connect(wsUrl, student.cookieHeader(), base);
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		// The conversation's id makes each question new to the response cache.
		socket.send({ type: 'send', conversationId: id, clientId: `${id}-1`, text: `${text} (${id})` });
		await socket.waitFor(
			() => socket.events(id).filter((e) => e.type === 'delta').length >= tokensFirst,
			60_000
		);
		return { id, socket };
	}

	/** A fresh client through the proxy: subscribes and returns the conversation's text as it renders. */
	async function reopen(id: string, messageId: string) {
		const socket = await until('a socket through the proxy', () =>
			TestSocket.connect(wsUrl, student.cookieHeader(), base)
		);
		socket.send({ type: 'subscribe', conversationId: id });
		await socket.waitFor((m) => m.some((x) => x.type === 'snapshot'));
		return { socket, text: () => socket.text(id, messageId) };
	}

	it('registers over HTTPS and streams a tutor answer over wss://, refusing a foreign origin', async () => {
		await expect(
			TestSocket.connect(wsUrl, student.cookieHeader(), 'https://evil.example')
		).rejects.toThrow(/403/);
		const { id, socket } = await ask('Loops? [mock:tokens:30]', 1);
		await socket.waitFor(() => socket.events(id).some((e) => e.type === 'done'), 60_000);
		const deltas = socket.events(id).filter((e) => e.type === 'delta');
		expect(deltas).toHaveLength(30);
		socket.close();
		const saved = await until('the saved answer', () => {
			const a = answer(id);
			return a.status === 'complete' ? a : undefined;
		});
		expect(saved.content).toContain('Token 30');
	});

	it('docker kill of the replica that owns an answer: interrupted, then continued on the other one', async () => {
		const { id, socket } = await ask('Crash [mock:tokens:1000]', 20);
		const owner = await ownerOf(id);
		const [survivor] = appContainers().filter((c) => !c.startsWith(owner));
		expect(survivor).toBeDefined();
		docker('kill', owner);
		socket.close();
		try {
			await continuedElsewhere(id, owner, survivor!);
		} finally {
			docker('start', owner);
		}
	});

	async function continuedElsewhere(id: string, owner: string, survivor: string) {
		const saved = await until('the answer marked interrupted', () => {
			const a = answer(id);
			return a.status === 'interrupted' ? a : undefined;
		});
		expect(saved.content).toMatch(/Token 20/);
		const client = await reopen(id, saved.id);
		expect(client.text()).toBe(saved.content);

		client.socket.send({ type: 'continue', conversationId: id });
		const continuedBy = await ownerOf(id);
		expect(survivor.startsWith(continuedBy)).toBe(true);
		await client.socket.waitFor(
			() => client.socket.events(id).some((e) => e.type === 'done'),
			120_000
		);
		const finished = await until('the continued answer saved', () => {
			const a = answer(id);
			return a.status === 'complete' ? a : undefined;
		});
		expect(finished.content.startsWith(saved.content)).toBe(true);
		expect(client.text()).toBe(finished.content);
		client.socket.close();
	}

	it('docker stop of the replica that owns an answer loses nothing: the answer is finished and saved', async () => {
		// The replica killed above is running again (Caddy retries the other while it starts).
		await until('two running replicas', () => {
			const ids = appContainers();
			return (
				ids.length === 2 &&
				ids.every((id) => docker('inspect', '-f', '{{.State.Running}}', id) === 'true')
			);
		});
		// 80 tokens at 50 ms: about 4 s of answer left when SIGTERM comes (grace: 10 s).
		const { id, socket } = await ask('Finish me [mock:tokens:80]', 5);
		const owner = await ownerOf(id);
		docker('stop', owner);
		socket.close();
		docker('start', owner);
		const saved = await until('the saved answer', () => {
			const a = answer(id);
			return a.status !== 'streaming' && a.status !== 'pending' ? a : undefined;
		});
		expect(saved.status).toBe('complete');
		expect(saved.content.match(/Token \d+/g)).toHaveLength(80);
		const client = await reopen(id, saved.id);
		expect(client.text()).toBe(saved.content);
		client.socket.close();
	});

	it('backs up with the backup service, and the dump restores into a fresh database, table for table', async () => {
		// The service wrote one dump when it started; this is the operator's "a backup now".
		const listDumps = () =>
			readdirSync(path.join(dir, 'backups')).filter((f) => f.endsWith('.dump'));
		const before = listDumps();
		compose('exec', '-T', 'backup', '/scripts/backup');
		const dumps = listDumps().filter((f) => !before.includes(f));
		expect(dumps).toHaveLength(1);
		const fresh = docker(
			'run',
			'-d',
			'--network',
			'tutor_data',
			'-e',
			'POSTGRES_USER=tutor',
			'-e',
			'POSTGRES_PASSWORD=restore',
			'-e',
			'POSTGRES_DB=tutor',
			'postgres:17'
		);
		try {
			await until(
				'the fresh database',
				() =>
					spawnSync('docker', [
						'exec',
						fresh,
						'pg_isready',
						'-U',
						'tutor',
						'-d',
						'tutor',
						'-h',
						'127.0.0.1'
					]).status === 0
			);
			const host = docker('inspect', '-f', '{{.Config.Hostname}}', fresh);
			compose(
				'run',
				'--rm',
				'-e',
				`PGHOST=${host}`,
				'-e',
				'PGPASSWORD=restore',
				'--entrypoint',
				'/scripts/restore',
				'backup',
				`/backups/${dumps[0]}`,
				'--yes'
			);
			const tables = psql(
				`select string_agg(tablename, ' ' order by tablename) from pg_tables where schemaname = 'public'`
			).split(' ');
			expect(tables.length).toBeGreaterThan(10);
			// Each table's rows, as text in a fixed order, hashed: the same in both databases.
			const digest = tables
				.map(
					(t) =>
						`select '${t}', count(*), md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from public."${t}" x`
				)
				.join(' union all ');
			const live = psql(digest);
			const restored = docker('exec', fresh, 'psql', '-U', 'tutor', '-d', 'tutor', '-Atc', digest);
			expect(restored).toBe(live);
			expect(live).toMatch(/^users\|[1-9]\d*\|/m);
		} finally {
			docker('rm', '-f', '-v', fresh);
		}
	});

	it('reports the image', () => {
		const mb = Number(process.env.STACK_IMAGE_MB);
		console.info(`app image: ${mb} MB, built in ${process.env.STACK_BUILD_SECONDS} s`);
		expect(mb).toBeGreaterThan(0);
	});
});
