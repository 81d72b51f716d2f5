/**
 * Fake Cohere (`POST /v2/embed`) and Voyage (`POST /v1/embeddings`) servers speaking each
 * service's JSON format. Vectors are a toy "meaning": each word adds weight to its concept's
 * dimension, and synonyms share a concept, so similarity finds what keyword search cannot.
 */
import { createServer } from 'node:http';
import { listen, record, type RecordedRequest } from './server.ts';

const CONCEPTS: string[][] = [
	['loop', 'loops', 'repeat', 'repeating', 'iterate', 'iterating', 'again', 'while'],
	['function', 'functions', 'def', 'reusable', 'procedure'],
	['list', 'lists', 'collection', 'sequence', 'items'],
	['error', 'errors', 'exception', 'crash', 'traceback', 'bug'],
	['text', 'string', 'strings', 'characters', 'words']
];
export const DIMENSIONS = CONCEPTS.length + 1;

export function toyVector(text: string): number[] {
	const v = new Array<number>(DIMENSIONS).fill(0);
	for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
		const i = CONCEPTS.findIndex((c) => c.includes(word));
		v[i >= 0 ? i : DIMENSIONS - 1]! += i >= 0 ? 1 : 0.01;
	}
	return v;
}

export async function startFakeEmbeddings(options: { failWith?: number } = {}) {
	const requests: RecordedRequest[] = [];
	const server = createServer(async (req, res) => {
		const r = await record(req, res);
		requests.push(r);
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(body));
		};
		if (options.failWith) return send(options.failWith, { message: 'fake failure' });
		if (!/^Bearer \S+/.test(String(r.headers.authorization)))
			return send(401, { message: 'no api key' });
		if (r.method === 'POST' && r.path === '/v2/embed') {
			const texts = r.body.texts as string[];
			return send(200, {
				id: 'fake',
				texts,
				embeddings: { float: texts.map(toyVector) },
				meta: { billed_units: { input_tokens: texts.join(' ').length } }
			});
		}
		if (r.method === 'POST' && r.path === '/v1/embeddings') {
			const input = r.body.input as string[];
			return send(200, {
				object: 'list',
				// Out of order on purpose: clients must sort by index.
				data: input
					.map((t, index) => ({ object: 'embedding', embedding: toyVector(t), index }))
					.reverse(),
				model: r.body.model,
				usage: { total_tokens: input.join(' ').length }
			});
		}
		send(404, { message: 'not found' });
	});
	const { url, close } = await listen(server);
	return { url, requests, close };
}
