/**
 * The deployment files, read statically (no Docker engine here): compose.prod.yaml's services,
 * labels, healthchecks, volumes and networks; the Dockerfile's stages, user, healthcheck and
 * entrypoint; and that no secret is written into either.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { serverNodeFlags } from '../scripts/server-flags.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
	image?: string;
	build?: string;
	ports?: string[];
	environment?: Record<string, string>;
	env_file?: string;
	labels?: Record<string, string>;
	volumes?: string[];
	networks?: string[];
	healthcheck?: { test: string[] };
	depends_on?: Record<string, { condition: string }>;
	deploy?: { replicas?: string | number };
	entrypoint?: string[];
	stop_grace_period?: string;
}
const compose = parse(read('compose.prod.yaml')) as {
	services: Record<string, Service>;
	volumes: Record<string, unknown>;
	networks: Record<string, { name?: string; internal?: boolean }>;
};
const services = compose.services;
const caddyfile = read('caddy/Caddyfile');
const envExample = read('.env.example');

/** `${NAME:-default}` → default, `${NAME:?message}` → undefined (must come from .env). */
const defaultOf = (value: string) => /^\$\{\w+:-([^}]*)\}$/.exec(value)?.[1];
const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1]);

/** One line per Dockerfile instruction (continuations joined), comments dropped. */
function instructions(text: string) {
	const joined = text.replace(/\\\n/g, ' ');
	return joined
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l && !l.startsWith('#'))
		.map((l) => {
			const [keyword, ...rest] = l.split(/\s+/);
			return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
		});
}
const dockerfile = instructions(read('Dockerfile'));
/** The final stage: everything after the last FROM. */
const finalStage = dockerfile.slice(dockerfile.findLastIndex((i) => i.keyword === 'FROM'));
const SECRET_NAME = /PASSWORD|SECRET|_KEY$|TOKEN/i;

describe('compose.prod.yaml', () => {
	it('runs caddy, db, app and backup', () => {
		expect(Object.keys(services).sort()).toEqual(['app', 'backup', 'caddy', 'db']);
	});

	it('caddy: caddy-docker-proxy on 80 and 443, the Docker socket read-only, certificates on a volume, our Caddyfile as its base', () => {
		const caddy = services.caddy!;
		expect(caddy.image).toMatch(/^lucaslorentz\/caddy-docker-proxy:\d/);
		expect(caddy.ports).toEqual(expect.arrayContaining(['80:80', '443:443', '443:443/udp']));
		expect(caddy.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
		const data = caddy.volumes!.find((v) => v.endsWith(':/data'))!;
		expect(compose.volumes).toHaveProperty(data.split(':')[0]!);
		const base = caddy.environment!.CADDY_DOCKER_CADDYFILE_PATH!;
		expect(caddy.volumes).toContain(`./caddy/Caddyfile:${base}:ro`);
		// Caddy must reach the replicas on the network it is told to proxy into.
		const ingress = caddy.environment!.CADDY_INGRESS_NETWORKS;
		const shared = caddy.networks!.filter((n) => services.app!.networks!.includes(n));
		expect(shared.map((n) => compose.networks[n]?.name)).toContain(ingress);
		expect(caddy.labels!['caddy.email']).toMatch(/^\$\{ACME_EMAIL:\?/);
	});

	it('db: PostgreSQL 17 with a pg_isready healthcheck and its data on a volume, off the edge network', () => {
		const db = services.db!;
		expect(db.image).toMatch(/^postgres:17/);
		expect(db.healthcheck!.test.join(' ')).toMatch(/pg_isready/);
		const data = db.volumes!.find((v) => v.endsWith(':/var/lib/postgresql/data'))!;
		expect(compose.volumes).toHaveProperty(data.split(':')[0]!);
		expect(db.networks).toEqual(['data']);
		expect(compose.networks.data!.internal).toBe(true);
		expect(db.ports).toBeUndefined();
	});

	it('app: two or more replicas of the image, after a healthy db, behind Caddy with its labels', () => {
		const app = services.app!;
		expect(app.build).toBe('.');
		const replicas = Number(defaultOf(String(app.deploy!.replicas)) ?? app.deploy!.replicas);
		expect(replicas).toBeGreaterThanOrEqual(2);
		expect(app.depends_on!.db!.condition).toBe('service_healthy');
		expect(app.ports).toBeUndefined();
		expect(app.environment).toMatchObject({
			NODE_ENV: 'production',
			PROTOCOL_HEADER: 'x-forwarded-proto',
			ADDRESS_HEADER: 'x-forwarded-for'
		});
		expect(app.environment!.ORIGIN).toMatch(/^https:\/\/\$\{DOMAIN/);
		expect(app.labels).toMatchObject({
			caddy: expect.stringMatching(/^\$\{DOMAIN(:\?[^}]*)?\}$/),
			'caddy.reverse_proxy': '{{upstreams 3000}}',
			'caddy.import': 'tutor_site',
			'caddy.reverse_proxy.import': 'tutor_upstream'
		});
		// Docker waits this long after SIGTERM: more than the default shutdown grace (10 s).
		expect(seconds(app.stop_grace_period!)).toBeGreaterThan(10);
	});

	it('the snippets the labels import carry the security and COOP/COEP headers and stream answers', () => {
		const snippet = (name: string) =>
			new RegExp(`^\\(${name}\\) \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(caddyfile)?.[1] ?? '';
		expect(snippet('tutor_site')).toMatch(/import tutor_headers/);
		expect(snippet('tutor_site')).toMatch(/encode/);
		const headers = snippet('tutor_headers');
		expect(headers).toMatch(/Strict-Transport-Security "max-age=\d+/);
		expect(headers).toMatch(/X-Content-Type-Options nosniff/);
		expect(headers).toMatch(/Referrer-Policy /);
		expect(headers).toMatch(
			/header \/jupyterlite\/\* \{[^}]*Cross-Origin-Opener-Policy same-origin[^}]*Cross-Origin-Embedder-Policy require-corp/
		);
		expect(snippet('tutor_upstream')).toMatch(/flush_interval -1/);
	});

	it('backup: a daily verified dump with the database’s own pg_dump version, kept 30 days', () => {
		const backup = services.backup!;
		expect(backup.image).toBe(services.db!.image);
		expect(backup.entrypoint).toEqual(['/scripts/backup', '--loop']);
		expect(backup.volumes).toContain('./scripts:/scripts:ro');
		expect(backup.volumes!.some((v) => v.endsWith(':/backups'))).toBe(true);
		expect(backup.environment!.BACKUP_DIR).toBe('/backups');
		expect(defaultOf(backup.environment!.BACKUP_KEEP_DAYS!)).toBe('30');
		expect(backup.depends_on!.db!.condition).toBe('service_healthy');
		accessSync(path.join(ROOT, 'scripts/backup'), constants.X_OK);
		accessSync(path.join(ROOT, 'scripts/restore'), constants.X_OK);
	});

	it('bakes in no secret: each secret-looking value is a ${...} reference, and every password in a URL too', () => {
		const problems: string[] = [];
		for (const [name, service] of Object.entries(services)) {
			for (const [key, value] of Object.entries({
				...service.environment,
				...service.labels
			})) {
				const v = String(value);
				if (SECRET_NAME.test(key) && !/^\$\{\w+(:\?[^}]*)?\}$/.test(v))
					problems.push(`${name}.${key}`);
				const password = /:\/\/[^:/@]+:([^@]*)@/.exec(v)?.[1];
				if (password !== undefined && !/^\$\{\w+(:\?[^}]*)?\}$/.test(password))
					problems.push(`${name}.${key} (password in URL)`);
			}
		}
		expect(problems).toEqual([]);
		expect(services.app!.env_file).toBe('.env');
	});

	it('every variable it needs from .env is documented in .env.example', () => {
		const needed = new Set(
			[
				...read('compose.prod.yaml')
					.replace(/#.*$/gm, '')
					.matchAll(/\$\{(\w+)(?::\?[^}]*)?\}/g)
			].map((m) => m[1]!)
		);
		for (const name of needed) expect(envExample, name).toMatch(new RegExp(`^${name}=`, 'm'));
		expect([...needed].sort()).toEqual(
			expect.arrayContaining(['ACME_EMAIL', 'DOMAIN', 'JWT_SECRET_KEY', 'POSTGRES_PASSWORD'])
		);
	});
});

describe('Dockerfile', () => {
	it('builds in stages on the official Node 24 slim image', () => {
		const arg = dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
		const image = arg?.args.split('=')[1];
		expect(image).toMatch(/^node:24(\.\d+)*-\w+-slim$/);
		const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
		expect(froms).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
		const runs = dockerfile.filter((i) => i.keyword === 'RUN').map((i) => i.args);
		expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
		expect(runs.some((r) => /npm run build/.test(r) && /npm prune --omit=dev/.test(r))).toBe(true);
	});

	it("ships what the server's Python checks load: build/python-worker.js and Pyodide from node_modules", () => {
		const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
		expect(copies).toContain('--from=build /app/build ./build');
		expect(copies).toContain('--from=build /app/node_modules ./node_modules');
		expect(read('vite.server.config.ts')).toMatch(
			/'python-worker': 'src\/lib\/server\/python\/worker\.ts'/
		);
		// `npm prune --omit=dev` keeps it only as a production dependency.
		const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
		expect(pkg.dependencies.pyodide).toBeDefined();
	});

	it('runs as a non-root user with NODE_ENV=production', () => {
		const users = finalStage.filter((i) => i.keyword === 'USER').map((i) => i.args);
		expect(users.at(-1)).toBe('node');
		expect(finalStage.find((i) => i.keyword === 'ENV')!.args).toMatch(/NODE_ENV=production/);
		// Nothing runs as root after switching.
		const after = finalStage.slice(finalStage.findIndex((i) => i.keyword === 'USER'));
		expect(after.filter((i) => i.keyword === 'RUN')).toEqual([]);
	});

	it('checks /health with Node itself (no curl in a slim image), in exec form', () => {
		const check = finalStage.find((i) => i.keyword === 'HEALTHCHECK')!;
		const cmd = JSON.parse(check.args.slice(check.args.indexOf('CMD') + 3)) as string[];
		expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
		expect(cmd[2]).toMatch(/\/health'/);
	});

	it('starts node build/app.js in exec form (so SIGTERM reaches Node), with the flags of npm start', () => {
		const entry = finalStage.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD');
		expect(entry).toHaveLength(1);
		expect(serverNodeFlags).toContain('--max-semi-space-size=8');
		const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
		expect(scripts.serve).toBe(['node', ...serverNodeFlags, 'build/app.js'].join(' '));
		expect(JSON.parse(entry[0]!.args)).toEqual(['node', ...serverNodeFlags, 'build/app.js']);
	});

	it('bakes in no secret and sends none to the build', () => {
		for (const i of dockerfile.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG'))
			for (const [name] of i.args.matchAll(/(\w+)=/g))
				expect(SECRET_NAME.test(name.slice(0, -1)), i.args).toBe(false);
		const ignored = read('.dockerignore').split('\n');
		expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', '.git']));
	});
});
