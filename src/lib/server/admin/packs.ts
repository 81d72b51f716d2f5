/**
 * Content packs as zip files for the admin console: reading an uploaded zip within PACK_LIMITS,
 * validating and importing it (all or nothing), and exporting the course as a zip.
 *
 * @example
 * const outcome = await packs.importZip(db, new Uint8Array(await file.arrayBuffer()));
 * if (!outcome.ok) console.log(outcome.errors);
 */
import { inflateRawSync } from 'node:zlib';
import {
	strToU8,
	Unzip,
	unzipSync,
	zipSync,
	type AsyncFlateStreamHandler,
	type UnzipDecoder,
	type Zippable
} from 'fflate';
import type { Db } from '#lib/server/db/index.ts';
import { exportPack, importPack, type ImportSummary } from '#lib/server/learn/content.ts';
import { PACK_LIMITS, packFiles, parsePack, type PackError } from '#lib/server/learn/pack.ts';

/** The largest zip accepted: the uncompressed limit is checked again entry by entry. */
export const ZIP_MAX_BYTES = PACK_LIMITS.totalBytes;

export type ZipRead =
	{ ok: true; files: Map<string, string> } | { ok: false; status: 400 | 413; errors: PackError[] };

type Refusal = Extract<ZipRead, { ok: false }>;

const refuse = (status: 400 | 413, file: string, message: string): Refusal => ({
	ok: false,
	status,
	errors: [{ file, message }]
});
const damaged = () => refuse(400, '(upload)', 'this is not a zip file, or the zip is damaged');
const tooManyFiles = () => refuse(413, '(upload)', `too many files (at most ${PACK_LIMITS.files})`);
const packTooLarge = () =>
	refuse(413, '(upload)', `the pack is larger than ${PACK_LIMITS.totalBytes} bytes`);
const fileTooLarge = (file: string): PackError => ({
	file,
	message: `file is larger than ${PACK_LIMITS.fileBytes} bytes`
});

/** macOS archivers add these; they are not part of the pack. */
const isArchiverLitter = (name: string) =>
	name.startsWith('__MACOSX/') || name.split('/').pop() === '.DS_Store';

/**
 * Unpacks a zip's files as text within PACK_LIMITS. The sizes the zip declares only refuse an
 * honest oversized zip early: the bytes that really come out are counted as entries are inflated,
 * and inflating stops at the first limit passed, so a zip that lies about its sizes costs no more
 * than an honest one.
 */
export function readZip(bytes: Uint8Array): ZipRead {
	if (bytes.length > ZIP_MAX_BYTES)
		return refuse(413, '(upload)', `the zip is larger than ${ZIP_MAX_BYTES} bytes`);
	// The central directory: what the zip says it holds. The filter refuses every entry, so nothing
	// is inflated here; an upload that is not a zip, or that was cut short, throws.
	const listed: string[] = [];
	const tooLarge: PackError[] = [];
	let records = 0;
	let count = 0;
	let declared = 0;
	try {
		unzipSync(bytes, {
			filter(file) {
				records++;
				if (file.name.endsWith('/')) return false;
				count++;
				declared += file.originalSize;
				if (file.originalSize > PACK_LIMITS.fileBytes) tooLarge.push(fileTooLarge(file.name));
				else if (!isArchiverLitter(file.name)) listed.push(file.name);
				return false;
			}
		});
	} catch {
		return damaged();
	}
	if (count > PACK_LIMITS.files) return tooManyFiles();
	if (declared > PACK_LIMITS.totalBytes) return packTooLarge();
	if (tooLarge.length) return { ok: false, status: 413, errors: tooLarge };
	const inflated = inflateEntries(bytes, new Set(listed), records);
	if (!inflated.ok) return inflated;
	const files = new Map<string, string>();
	for (const name of listed) {
		const data = inflated.files.get(name);
		// Listed in the central directory, but its data did not come through whole.
		if (!data) return damaged();
		let text: string;
		try {
			text = new TextDecoder('utf-8', { fatal: true }).decode(data);
		} catch {
			return refuse(400, name, 'is not UTF-8 text');
		}
		files.set(name, text);
	}
	return { ok: true, files };
}

/**
 * Upload bytes handed to fflate's Unzip at a time. Unzip only frames the entries (a deflated
 * entry's bytes come through still compressed, see DeflatedPassThrough), so a push is cheap; small
 * pushes keep the work done after a limit is passed small, and Unzip's recursion (two calls per
 * entry in a push) shallow.
 */
const PUSH_BYTES = 8192;

/**
 * Hands a deflated entry's bytes through as they are, for inflateEntries to inflate with a cap.
 * fflate's UnzipInflate has no cap, and inflates each push into a fresh buffer of 160 KB or more:
 * pushed in pieces small enough to bound the inflating done past a limit (deflate expands up to
 * about 1032 times), it read an honest 7.5 MB zip several times slower than unzipSync.
 */
class DeflatedPassThrough implements UnzipDecoder {
	static compression = 8;
	ondata: AsyncFlateStreamHandler = () => {};
	push(chunk: Uint8Array<ArrayBuffer>, final: boolean) {
		this.ondata(null, chunk, final);
	}
}

/**
 * Reads the wanted entries as the local headers frame them, counting the bytes that come out per
 * file and in all, and stops pushing at the first limit passed or the first error. Only entries
 * whose data arrived in full are in the result. `records` is the central directory's entry count.
 */
function inflateEntries(
	bytes: Uint8Array,
	wanted: Set<string>,
	records: number
): { ok: true; files: Map<string, Uint8Array> } | Refusal {
	const files = new Map<string, Uint8Array>();
	const state: { failure?: Refusal } = {};
	let seen = 0;
	let total = 0;
	/** Counts `length` more bytes of `name`, which had `size`; false once a limit is passed. */
	const counted = (name: string, size: number, length: number) => {
		total += length;
		if (size + length > PACK_LIMITS.fileBytes)
			state.failure = { ok: false, status: 413, errors: [fileTooLarge(name)] };
		else if (total > PACK_LIMITS.totalBytes) state.failure = packTooLarge();
		return !state.failure;
	};
	const unzip = new Unzip((file) => {
		if (state.failure) return;
		// Every local entry has its record in the central directory; more entries than records is a
		// damaged zip, and (the local headers may repeat a listed name) work the limits did not see.
		if (++seen > records) {
			state.failure = damaged();
			return;
		}
		if (!wanted.has(file.name)) return;
		const chunks: Uint8Array[] = [];
		let size = 0;
		file.ondata = (error, data, final) => {
			if (state.failure) return;
			if (error) {
				state.failure = damaged();
				return;
			}
			if (file.compression === DeflatedPassThrough.compression) {
				// Compressed bytes: inflated whole once they are all in, with the output capped.
				chunks.push(data);
				if (!final) return;
				const cap = Math.min(PACK_LIMITS.fileBytes, PACK_LIMITS.totalBytes - total);
				const out = inflateCapped(joined(chunks), cap);
				if (out === 'damaged') state.failure = damaged();
				// One byte over the cap passes the limit the cap came from.
				else if (out === 'over the cap') counted(file.name, 0, cap + 1);
				else if (counted(file.name, 0, out.length)) files.set(file.name, out);
				return;
			}
			if (!counted(file.name, size, data.length)) return;
			size += data.length;
			chunks.push(data);
			if (final) files.set(file.name, joined(chunks));
		};
		file.start();
	});
	unzip.register(DeflatedPassThrough);
	try {
		for (let at = 0; !state.failure && at < bytes.length; at += PUSH_BYTES)
			unzip.push(bytes.subarray(at, at + PUSH_BYTES), at + PUSH_BYTES >= bytes.length);
	} catch {
		// fflate throws for a damaged zip, and when the upload ends inside an entry's data.
		state.failure ??= damaged();
	}
	return state.failure ?? { ok: true, files };
}

/**
 * Inflates raw deflate data, or says it comes to more than `cap` bytes: zlib checks the running
 * output every 16 KB it writes and stops there, whatever the zip declared.
 */
function inflateCapped(data: Uint8Array, cap: number): Uint8Array | 'over the cap' | 'damaged' {
	// No bytes at all, as unzipSync read them: an empty file.
	if (!data.length) return data;
	try {
		return inflateRawSync(data, { maxOutputLength: Math.max(cap, 1) });
	} catch (error) {
		return (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE'
			? 'over the cap'
			: 'damaged';
	}
}

function joined(chunks: Uint8Array[]) {
	const [first] = chunks;
	if (first && chunks.length === 1) return first;
	const out = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
	let at = 0;
	for (const chunk of chunks) {
		out.set(chunk, at);
		at += chunk.length;
	}
	return out;
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
