/**
 * Content packs as zip files for the admin console: reading an uploaded zip within PACK_LIMITS,
 * validating and importing it (all or nothing), and exporting the course as a zip.
 *
 * @example
 * const outcome = await packs.importZip(db, new Uint8Array(await file.arrayBuffer()));
 * if (!outcome.ok) console.log(outcome.errors);
 */
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import type { Db } from '../db';
import { exportPack, importPack, type ImportSummary } from '../learn/content';
import { PACK_LIMITS, packFiles, parsePack, type PackError } from '../learn/pack';

/** The largest zip accepted: the uncompressed limit is checked again entry by entry. */
export const ZIP_MAX_BYTES = PACK_LIMITS.totalBytes;

export type ZipRead =
	{ ok: true; files: Map<string, string> } | { ok: false; status: 400 | 413; errors: PackError[] };

/** Unpacks a zip's files as text, refusing archives over the limits before inflating them. */
export function readZip(bytes: Uint8Array): ZipRead {
	if (bytes.length > ZIP_MAX_BYTES)
		return {
			ok: false,
			status: 413,
			errors: [{ file: '(upload)', message: `the zip is larger than ${ZIP_MAX_BYTES} bytes` }]
		};
	const tooLarge: PackError[] = [];
	let count = 0;
	let total = 0;
	let entries: Record<string, Uint8Array>;
	try {
		entries = unzipSync(bytes, {
			filter(file) {
				if (file.name.endsWith('/')) return false;
				count++;
				total += file.originalSize;
				if (file.originalSize > PACK_LIMITS.fileBytes) {
					tooLarge.push({
						file: file.name,
						message: `file is larger than ${PACK_LIMITS.fileBytes} bytes`
					});
					return false;
				}
				return count <= PACK_LIMITS.files && total <= PACK_LIMITS.totalBytes;
			}
		});
	} catch {
		return {
			ok: false,
			status: 400,
			errors: [{ file: '(upload)', message: 'this is not a zip file, or the zip is damaged' }]
		};
	}
	if (count > PACK_LIMITS.files)
		return {
			ok: false,
			status: 413,
			errors: [{ file: '(upload)', message: `too many files (at most ${PACK_LIMITS.files})` }]
		};
	if (total > PACK_LIMITS.totalBytes)
		return {
			ok: false,
			status: 413,
			errors: [
				{ file: '(upload)', message: `the pack is larger than ${PACK_LIMITS.totalBytes} bytes` }
			]
		};
	if (tooLarge.length) return { ok: false, status: 413, errors: tooLarge };
	const files = new Map<string, string>();
	for (const [name, data] of Object.entries(entries)) {
		// macOS archivers add these; they are not part of the pack.
		if (name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store') continue;
		let text: string;
		try {
			text = new TextDecoder('utf-8', { fatal: true }).decode(data);
		} catch {
			return {
				ok: false,
				status: 400,
				errors: [{ file: name, message: 'is not UTF-8 text' }]
			};
		}
		files.set(name, text);
	}
	return { ok: true, files };
}

export type ImportOutcome =
	| { ok: true; pack: { slug: string; title: string }; summary: ImportSummary }
	| { ok: false; status: 400 | 413; errors: PackError[] };

/** Validates every file first; imports in one transaction only when there is no error at all. */
export async function importFiles(db: Db, files: Map<string, string>): Promise<ImportOutcome> {
	const parsed = parsePack(files);
	if (!parsed.ok) return { ok: false, status: 400, errors: parsed.errors };
	const summary = await importPack(db, parsed.pack);
	return { ok: true, pack: { slug: parsed.pack.slug, title: parsed.pack.title }, summary };
}

export async function importZip(db: Db, bytes: Uint8Array): Promise<ImportOutcome> {
	const read = readZip(bytes);
	if (!read.ok) return read;
	return importFiles(db, read.files);
}

const ZIP_MTIME = new Date(2000, 0, 1);

/** The whole course, or one pack's modules, as a zip in the pack format (one top folder). */
export async function exportZip(db: Db, options: { pack?: string } = {}) {
	const slug = options.pack ?? 'course';
	const pack = await exportPack(
		db,
		{
			slug,
			title: options.pack ? `Pack ${options.pack}` : 'Course export',
			description: options.pack
				? `The modules of the ${options.pack} pack, exported from AI Coding Tutor.`
				: 'The whole course, exported from AI Coding Tutor.'
		},
		options
	);
	const tree: Zippable = {};
	for (const [name, text] of packFiles(pack)) tree[`${slug}/${name}`] = strToU8(text);
	// A fixed timestamp keeps the archive a function of the content: the same course exports to the
	// same bytes, so an export can be diffed or checksummed.
	const bytes = zipSync(tree, { level: 6, mtime: ZIP_MTIME });
	return { name: `${slug}.zip`, bytes, modules: pack.modules.length };
}
