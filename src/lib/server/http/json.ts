/**
 * JSON request bodies for `+server.ts` endpoints: the right content type, a size limit, valid JSON
 * and a valibot schema, each failure answered with a clear 4xx and a message.
 *
 * @example
 * const body = await readJson(request, SaveCode, 64_000);
 * if (!body.ok) return body.response;
 */
import * as v from 'valibot';

export type JsonBody<T> = { ok: true; data: T } | { ok: false; response: Response };

const problem = (status: number, message: string, issues?: string[]) =>
	({ ok: false, response: Response.json({ message, issues }, { status }) }) as const;

/** Deeper JSON than this is refused: serializing it (or storing it as jsonb) would overflow a stack. */
export const MAX_DEPTH = 100;

/** Whether `value` has arrays or objects nested more than `max` deep; iterative, so it cannot overflow. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
	const stack: [unknown, number][] = [[value, 0]];
	while (stack.length) {
		const [item, depth] = stack.pop()!;
		if (typeof item !== 'object' || item === null) continue;
		if (depth >= max) return true;
		for (const child of Object.values(item)) stack.push([child, depth + 1]);
	}
	return false;
}

export async function readJson<S extends v.GenericSchema>(
	request: Request,
	schema: S,
	maxBytes: number
): Promise<JsonBody<v.InferOutput<S>>> {
	if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? ''))
		return problem(415, 'Send JSON (content-type: application/json).');
	const declared = Number(request.headers.get('content-length') ?? 0);
	if (declared > maxBytes) return problem(413, `The request is larger than ${maxBytes} bytes.`);
	let text: string;
	try {
		text = await request.text();
	} catch (error) {
		if ((error as { status?: number }).status === 413)
			return problem(413, `The request is larger than ${maxBytes} bytes.`);
		return problem(400, 'The request body could not be read.');
	}
	if (new TextEncoder().encode(text).length > maxBytes)
		return problem(413, `The request is larger than ${maxBytes} bytes.`);
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return problem(400, 'The request body is not valid JSON.');
	}
	if (nestedDeeperThan(value, MAX_DEPTH))
		return problem(400, `The request is nested more than ${MAX_DEPTH} levels deep.`);
	const parsed = v.safeParse(schema, value);
	if (!parsed.success)
		return problem(
			400,
			'The request is not in the expected shape.',
			parsed.issues.map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`)
		);
	return { ok: true, data: parsed.output };
}
