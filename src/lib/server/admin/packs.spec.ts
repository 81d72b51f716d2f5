import { deflateRawSync } from 'node:zlib';
import {
	strToU8,
	Zip,
	ZipDeflate,
	ZipPassThrough,
	zipSync,
	type ZipInputFile,
	type Zippable
} from 'fflate';
import { describe, expect, it } from 'vitest';
import { PACK_LIMITS } from '#lib/server/learn/pack.ts';
import { readZip, ZIP_MAX_BYTES } from './packs';

const DAMAGED = {
	ok: false,
	status: 400,
	errors: [{ file: '(upload)', message: 'this is not a zip file, or the zip is damaged' }]
};
const FILE_TOO_LARGE = `file is larger than ${PACK_LIMITS.fileBytes} bytes`;

const PACK = {
	'demo/pack.yaml': 'slug: demo\ntitle: Demo\n',
	'demo/01-basics/module.yaml': 'title: Basics\n',
	'demo/01-basics/01-hello/lesson.md': '# Héllo ✓\n\nPrint a greeting.\n'.repeat(40),
	'demo/01-basics/01-hello/empty.md': ''
};

const zipOf = (files: Record<string, string>) =>
	zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));

function expectFiles(zip: Uint8Array, files: Record<string, string>) {
	const read = readZip(zip);
	expect(read.ok).toBe(true);
	if (read.ok) expect(Object.fromEntries(read.files)).toEqual(files);
}

/** The bytes of a zip made with fflate's streaming Zip, which gives every entry a data descriptor. */
function streamedZip(add: (zip: Zip) => void) {
	const parts: Uint8Array[] = [];
	const zip = new Zip((error, chunk) => {
		if (error) throw error;
		parts.push(chunk);
	});
	add(zip);
	zip.end();
	return Buffer.concat(parts);
}

/**
 * Rewrites every entry of a zip made with zipSync at level 0 as deflate (method 8) declaring
 * `size` uncompressed bytes: the stored bytes must then be raw deflate data. Walks the central
 * directory from the end record (no zip comment) to reach each local header.
 */
function declareDeflated(zip: Uint8Array, size: number) {
	const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
	const end = zip.length - 22;
	expect(view.getUint32(end, true)).toBe(0x06054b50);
	let at = view.getUint32(end + 16, true);
	for (let entry = view.getUint16(end + 10, true); entry > 0; entry--) {
		expect(view.getUint32(at, true)).toBe(0x02014b50);
		const local = view.getUint32(at + 42, true);
		expect(view.getUint32(local, true)).toBe(0x04034b50);
		view.setUint16(at + 10, 8, true);
		view.setUint32(at + 24, size, true);
		view.setUint16(local + 8, 8, true);
		view.setUint32(local + 22, size, true);
		const name = view.getUint16(at + 28, true);
		const extra = view.getUint16(at + 30, true);
		const comment = view.getUint16(at + 32, true);
		at += 46 + name + extra + comment;
	}
	return zip;
}

/** CPU milliseconds (user and system) spent in fn. */
function cpuMs<T>(fn: () => T) {
	const start = process.cpuUsage();
	const result = fn();
	const used = process.cpuUsage(start);
	return { result, ms: (used.user + used.system) / 1000 };
}

describe('readZip', () => {
	it('reads a pack back exactly, leaving out folders and macOS litter', () => {
		const tree: Zippable = {
			...Object.fromEntries(Object.entries(PACK).map(([name, text]) => [name, strToU8(text)])),
			'demo/02-empty/': {},
			'__MACOSX/demo/._pack.yaml': new Uint8Array([0, 5, 22, 7, 0xff]),
			'demo/.DS_Store': new Uint8Array([0, 0, 0, 1, 0xfe])
		};
		expectFiles(zipSync(tree), PACK);
		expectFiles(zipSync(tree, { level: 0 }), PACK);
	});

	it('reads entries with data descriptors, deflated and stored', () => {
		const zip = streamedZip((zip) => {
			for (const [index, [name, text]] of Object.entries(PACK).entries()) {
				const file = index % 2 ? new ZipPassThrough(name) : new ZipDeflate(name);
				zip.add(file);
				const data = strToU8(text);
				file.push(data.subarray(0, 100));
				file.push(data.subarray(100), true);
			}
		});
		// The streaming Zip leaves the sizes out of the local headers and sets flag bit 3.
		expect(new DataView(zip.buffer, zip.byteOffset).getUint16(6, true) & 8).toBe(8);
		expectFiles(zip, PACK);
	});

	it('reads zips that Python and Info-ZIP wrote to a pipe (data descriptors)', () => {
		// python3 zipfile.ZipFile(non-seekable stream, 'w', ZIP_DEFLATED): two deflated, one stored.
		const python =
			'UEsDBBQACAAIANdJh10AAAAAAAAAAAAAAAAOAAAAcGFjay9wYWNrLnlhbWwrzilNt1JISc3N5yrJLMlJtVJwAbEBUEsHCMeuY/8WAAAAFwAAAFBLAwQUAAgACAAAACEAAAAAAAAAAAAAAAAADQAAAHBhY2svaW50cm8ubWRTVvA4vDInJ5+LKzg/N1WhJLWiREehGD9TjwsAUEsHCMSn7iYcAAAANgAAAFBLAwQUAAgAAAAAACEAAAAAAAAAAAAAAAAADgAAAHBhY2svc3RvcmVkLm1kc3RvcmVkLCBub3QgZGVmbGF0ZWQKUEsHCCoDzlMVAAAAFQAAAFBLAQIUAxQACAAIANdJh13HrmP/FgAAABcAAAAOAAAAAAAAAAAAAACAAQAAAABwYWNrL3BhY2sueWFtbFBLAQIUAxQACAAIAAAAIQDEp+4mHAAAADYAAAANAAAAAAAAAAAAAACAAVIAAABwYWNrL2ludHJvLm1kUEsBAhQDFAAIAAAAAAAhACoDzlMVAAAAFQAAAA4AAAAAAAAAAAAAAIABqQAAAHBhY2svc3RvcmVkLm1kUEsFBgAAAAADAAMAswAAAPoAAAAAAA==';
		// zip -r - pack | cat (Info-ZIP 3.0): a folder entry, extra fields, an empty stored file.
		const infoZip =
			'UEsDBAoAAAAAANhJh10AAAAAAAAAAAAAAAAFABwAcGFjay9VVAkAAwd5FmsHeRZrdXgLAAEEAAAAAAQAAAAAUEsDBBQACAAIANhJh10AAAAAAAAAABcAAAAOABwAcGFjay9wYWNrLnlhbWxVVAkAAwd5FmsHeRZrdXgLAAEEAAAAAAQAAAAAK84pTbdSSEnNzecqySzJSbVScAGxAVBLBwjHrmP/FgAAABcAAABQSwMECgAIAAAA2EmHXQAAAAAAAAAAAAAAAA0AHABwYWNrL2VtcHR5Lm1kVVQJAAMHeRZrB3kWa3V4CwABBAAAAAAEAAAAAFBLBwgAAAAAAAAAAAAAAABQSwMEFAAIAAgA2EmHXQAAAAAAAAAANgAAAA0AHABwYWNrL2ludHJvLm1kVVQJAAMHeRZrB3kWa3V4CwABBAAAAAAEAAAAAFNW8Di8Micnn4srOD83VaEktaJER6EYP1OPCwBQSwcIxKfuJhwAAAA2AAAAUEsBAh4DCgAAAAAA2EmHXQAAAAAAAAAAAAAAAAUAGAAAAAAAAAAQAO1BAAAAAHBhY2svVVQFAAMHeRZrdXgLAAEEAAAAAAQAAAAAUEsBAh4DFAAIAAgA2EmHXceuY/8WAAAAFwAAAA4AGAAAAAAAAQAAAKSBPwAAAHBhY2svcGFjay55YW1sVVQFAAMHeRZrdXgLAAEEAAAAAAQAAAAAUEsBAh4DCgAIAAAA2EmHXQAAAAAAAAAAAAAAAA0AGAAAAAAAAAAAAKSBrQAAAHBhY2svZW1wdHkubWRVVAUAAwd5Fmt1eAsAAQQAAAAABAAAAABQSwECHgMUAAgACADYSYddxKfuJhwAAAA2AAAADQAYAAAAAAABAAAApIEEAQAAcGFjay9pbnRyby5tZFVUBQADB3kWa3V4CwABBAAAAAAEAAAAAFBLBQYAAAAABAAEAEUBAAB3AQAAAAA=';
		const yaml = 'slug: demo\ntitle: Demo\n';
		const intro = '# Héllo\n\nSome text, some text, some text, some text.\n';
		expectFiles(Buffer.from(python, 'base64'), {
			'pack/pack.yaml': yaml,
			'pack/intro.md': intro,
			'pack/stored.md': 'stored, not deflated\n'
		});
		expectFiles(Buffer.from(infoZip, 'base64'), {
			'pack/pack.yaml': yaml,
			'pack/empty.md': '',
			'pack/intro.md': intro
		});
	});

	describe('a zip that lies about its sizes', () => {
		// 60 MB of zeros deflate to about 58 KB; the zip declares 10 bytes.
		const zeros = deflateRawSync(new Uint8Array(60_000_000), { level: 9 });

		it('is refused once the real bytes pass the file limit, without inflating the rest', () => {
			const zip = declareDeflated(zipSync({ 'demo/big.md': zeros }, { level: 0 }), 10);
			const { result, ms } = cpuMs(() => readZip(zip));
			expect(result).toEqual({
				ok: false,
				status: 413,
				errors: [{ file: 'demo/big.md', message: FILE_TOO_LARGE }]
			});
			expect(ms).toBeLessThan(150);
		});

		it('is refused the same way when its entries have data descriptors', () => {
			const zip = streamedZip((zip) => {
				const file: ZipInputFile = { filename: 'demo/big.md', size: 10, crc: 0, compression: 8 };
				zip.add(file);
				file.ondata?.(null, zeros, true);
			});
			const { result, ms } = cpuMs(() => readZip(zip));
			expect(result).toEqual({
				ok: false,
				status: 413,
				errors: [{ file: 'demo/big.md', message: FILE_TOO_LARGE }]
			});
			expect(ms).toBeLessThan(150);
		});

		it('is refused once the real bytes of all files pass the pack limit', () => {
			// Each file really holds 150 KB (under the file limit), 100 of them 15 MB.
			const file = deflateRawSync(new Uint8Array(150_000), { level: 9 });
			const tree = Object.fromEntries(
				Array.from({ length: 100 }, (_, index) => [`demo/${index}.md`, file])
			);
			const zip = declareDeflated(zipSync(tree, { level: 0 }), 10);
			const { result, ms } = cpuMs(() => readZip(zip));
			expect(result).toEqual({
				ok: false,
				status: 413,
				errors: [
					{ file: '(upload)', message: `the pack is larger than ${PACK_LIMITS.totalBytes} bytes` }
				]
			});
			expect(ms).toBeLessThan(150);
		});

		it('is refused when its local entries outnumber its central directory', () => {
			// One honest entry of 150 KB, its local header and data written 50 times over.
			const one = zipSync({ 'demo/a.md': new Uint8Array(150_000) });
			const directory = new DataView(one.buffer).getUint32(one.length - 6, true);
			const copies = Array.from({ length: 50 }, () => one.subarray(0, directory));
			const zip = Buffer.concat([...copies, one.subarray(directory)]);
			new DataView(zip.buffer, zip.byteOffset).setUint32(zip.length - 6, directory * 50, true);
			expect(readZip(zip)).toEqual(DAMAGED);
		});
	});

	it('refuses an honest zip over the limits before inflating it, naming every large file', () => {
		const big = 'x'.repeat(PACK_LIMITS.fileBytes + 1);
		expect(readZip(zipOf({ 'demo/a.md': big, 'demo/b.md': 'ok', 'demo/c.md': big }))).toEqual({
			ok: false,
			status: 413,
			errors: [
				{ file: 'demo/a.md', message: FILE_TOO_LARGE },
				{ file: 'demo/c.md', message: FILE_TOO_LARGE }
			]
		});
		const many = Object.fromEntries(
			Array.from({ length: PACK_LIMITS.files + 1 }, (_, index) => [`demo/${index}.md`, 'x'])
		);
		expect(readZip(zipOf(many))).toEqual({
			ok: false,
			status: 413,
			errors: [{ file: '(upload)', message: `too many files (at most ${PACK_LIMITS.files})` }]
		});
		const upload = readZip(new Uint8Array(ZIP_MAX_BYTES + 1));
		expect(upload.ok || upload.status).toBe(413);
	});

	it('refuses a file that is not UTF-8', () => {
		const zip = zipSync({
			'demo/pack.yaml': strToU8('slug: demo\n'),
			'demo/latin1.md': new Uint8Array([0x63, 0x61, 0x66, 0xe9])
		});
		expect(readZip(zip)).toEqual({
			ok: false,
			status: 400,
			errors: [{ file: 'demo/latin1.md', message: 'is not UTF-8 text' }]
		});
	});

	it('refuses bytes that are not a zip', () => {
		expect(readZip(new Uint8Array())).toEqual(DAMAGED);
		expect(readZip(strToU8('PK\x03\x04 but then just text'.repeat(50)))).toEqual(DAMAGED);
		expect(readZip(Uint8Array.from({ length: 5000 }, (_, index) => (index * 7919) % 251))).toEqual(
			DAMAGED
		);
	});

	it('refuses a zip cut short anywhere', () => {
		const zip = zipOf(PACK);
		for (let length = 0; length < zip.length; length += 13)
			expect(readZip(zip.subarray(0, length)), `cut at ${length}`).toEqual(DAMAGED);
		const streamed = streamedZip((zip) => {
			const file = new ZipDeflate('demo/pack.yaml');
			zip.add(file);
			file.push(strToU8(PACK['demo/pack.yaml']), true);
		});
		for (let length = 0; length < streamed.length; length += 7)
			expect(readZip(streamed.subarray(0, length)), `cut at ${length}`).toEqual(DAMAGED);
	});

	it('refuses a zip whose entries do not match its central directory', () => {
		// A local header that claims more data than the zip holds swallows the rest of the zip.
		const long = zipOf(PACK);
		new DataView(long.buffer).setUint32(18, 1_000_000, true);
		expect(readZip(long)).toEqual(DAMAGED);
		// The first file's local header names another file: the listed file never arrives.
		const renamed = zipOf(PACK);
		renamed[30] = 'x'.charCodeAt(0);
		expect(readZip(renamed)).toEqual(DAMAGED);
		// Deflate data that is not deflate.
		const corrupt = zipOf({ 'demo/lesson.md': PACK['demo/01-basics/01-hello/lesson.md'] });
		corrupt.fill(0xff, 30 + 'demo/lesson.md'.length, 30 + 'demo/lesson.md'.length + 8);
		expect(readZip(corrupt)).toEqual(DAMAGED);
	});
});
