/**
 * `npm run content:import -- <folder>` and `npm run content:export -- <folder> [--pack <slug>]`:
 * content packs from the command line, on the database the server is configured for (.env and the
 * environment, exactly like `npm start`). An import validates the whole pack first; on any error it
 * prints each one as file:line, changes nothing and exits with status 1.
 *
 * Built by Vite into build/content.js (see vite.server.config.ts); scripts/content.js rebuilds it
 * when the sources changed, like `npm start` does for the server.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { record } from '#lib/server/audit.ts';
import { ConfigError, loadConfig } from '#lib/server/config.ts';
import { openDatabase, type Database } from '#lib/server/db/index.ts';
import { loadEnvFile } from '#lib/server/env-file.ts';
import { exportPack, importPack } from '#lib/server/learn/content.ts';
import { packFiles, parsePack, readPackDir } from '#lib/server/learn/pack.ts';

const USAGE = `Usage:
  npm run content:import -- <folder>                 import (or update) the pack in <folder>
  npm run content:export -- <folder> [--pack <slug>]  write the course (or one pack) to <folder>`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function runImport(database: Database, folder: string) {
	if (!existsSync(folder)) {
		err(`No such folder: ${folder}`);
		return 1;
	}
	const parsed = parsePack(await readPackDir(folder));
	if (!parsed.ok) {
		err(
			`The pack in ${folder} was not imported; nothing was changed. ${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'}:`
		);
		for (const e of parsed.errors) err(`  ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`);
		return 1;
	}
	const summary = await importPack(database.db, parsed.pack);
	await record(database.db, {
		actorId: null,
		action: 'content.pack.import',
		detail: { source: 'cli', folder: path.resolve(folder), pack: parsed.pack.slug, ...summary }
	});
	out(
		`Imported “${parsed.pack.title}” (${parsed.pack.slug}): ${summary.modules} modules, ${summary.lessons} lessons, ${summary.exercises} exercises.`
	);
	return 0;
}

async function runExport(database: Database, folder: string, pack?: string) {
	if (existsSync(folder) && readdirSync(folder).length) {
		err(`${folder} is not empty; export into a new or empty folder.`);
		return 1;
	}
	const slug = pack ?? 'course';
	const exported = await exportPack(
		database.db,
		{
			slug,
			title: pack ? `Pack ${pack}` : 'Course export',
			description: pack
				? `The modules of the ${pack} pack, exported from AI Coding Tutor.`
				: 'The whole course, exported from AI Coding Tutor.'
		},
		{ pack }
	);
	if (!exported.modules.length) {
		err(pack ? `No modules come from the pack “${pack}”.` : 'The course has no modules.');
		return 1;
	}
	const files = packFiles(exported);
	for (const [name, text] of files) {
		const target = path.join(folder, name);
		mkdirSync(path.dirname(target), { recursive: true });
		writeFileSync(target, text);
	}
	const lessons = exported.modules.reduce((n, m) => n + m.lessons.length, 0);
	const exercises = exported.modules.reduce(
		(n, m) => n + m.lessons.reduce((k, l) => k + l.exercises.length, 0),
		0
	);
	out(
		`Exported ${exported.modules.length} modules, ${lessons} lessons, ${exercises} exercises (${files.size} files) to ${folder}.`
	);
	return 0;
}

async function main(argv: string[]) {
	const { positionals, values } = parseArgs({
		args: argv,
		allowPositionals: true,
		options: { pack: { type: 'string' }, help: { type: 'boolean', short: 'h' } }
	});
	const [command, given] = positionals;
	// npm runs scripts in the package folder; a relative folder means the one npm was run from.
	const folder = given && path.resolve(process.env.INIT_CWD ?? process.cwd(), given);
	if (values.help || !folder || (command !== 'import' && command !== 'export')) {
		(values.help ? out : err)(USAGE);
		return values.help ? 0 : 2;
	}
	if (values.pack !== undefined && !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(values.pack)) {
		err('--pack takes a pack slug (lower-case letters, digits and dashes).');
		return 2;
	}
	loadEnvFile();
	let config;
	try {
		config = loadConfig(process.env);
	} catch (error) {
		if (error instanceof ConfigError) {
			err(`${error.message}\n\nSee .env.example for every setting.`);
			return 1;
		}
		throw error;
	}
	const database = await openDatabase({
		url: config.databaseUrl,
		dataDir: config.dataDir,
		poolMax: 2
	});
	try {
		return command === 'import'
			? await runImport(database, folder)
			: await runExport(database, folder, values.pack);
	} finally {
		await database.close();
	}
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	err(`content ${process.argv[2] ?? ''} failed: ${(error as Error).message}`);
	process.exitCode = 1;
}
