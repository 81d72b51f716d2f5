/**
 * Structured JSON logs (pino). Every line written while a request is handled carries its request id,
 * taken from an AsyncLocalStorage that the request handlers enter.
 *
 * @example
 * withRequestContext({ requestId }, () => logger().info({ path }, 'request'));
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

export interface RequestContext {
	requestId: string;
	userId?: string;
}

// The SvelteKit bundle and the server entry are built separately; both must see one store and one
// logger, so they live on globalThis under a registered symbol.
const STORE = Symbol.for('ai-coding-tutor.request-context');
const LOGGER = Symbol.for('ai-coding-tutor.logger');
type Globals = { [STORE]?: AsyncLocalStorage<RequestContext>; [LOGGER]?: Logger };
const globals = globalThis as Globals;

const store = (globals[STORE] ??= new AsyncLocalStorage<RequestContext>());

/** Keys whose values never reach a log line, at any depth we log. */
export const REDACTED_KEYS = [
	'password',
	'currentPassword',
	'newPassword',
	'passwordHash',
	'token',
	'accessToken',
	'refreshToken',
	'secret',
	'apiKey',
	'authorization',
	'cookie',
	'set-cookie'
];

/** A failed query's text and error, never its values (they hold passwords, answers, emails). */
export function errSerializer(err: unknown) {
	const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
	if (!out || typeof out !== 'object') return out;
	// drizzle puts the values in its message too: "Failed query: ...\nparams: a,b".
	const params = (err as { params?: unknown }).params;
	const shown = Array.isArray(params) ? `\nparams: ${String(params)}` : null;
	for (const key of ['params', 'parameters', 'args']) delete out[key];
	for (const key of ['message', 'stack'])
		if (shown && typeof out[key] === 'string')
			out[key] = (out[key] as string).split(shown).join('');
	return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
	const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
	return pino(
		{
			level,
			base: undefined,
			timestamp: pino.stdTimeFunctions.isoTime,
			serializers: { err: errSerializer },
			redact: {
				paths: paths.map((p) => p.replace(/\.([\w]*-[\w-]*)$/, '["$1"]')),
				censor: '[redacted]'
			},
			mixin() {
				const ctx = store.getStore();
				return ctx ? { reqId: ctx.requestId, ...(ctx.userId ? { userId: ctx.userId } : {}) } : {};
			}
		},
		destination
	);
}

export function setLogger(logger: Logger) {
	globals[LOGGER] = logger;
}

/** The process logger; before start-up it is a plain info-level logger. */
export function logger(): Logger {
	return (globals[LOGGER] ??= createLogger('info'));
}

export function withRequestContext<T>(ctx: RequestContext, fn: () => T): T {
	return store.run(ctx, fn);
}

export function requestContext(): RequestContext | undefined {
	return store.getStore();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/** Keeps a well-formed id from a trusted proxy, otherwise makes a new one. */
export function requestIdFrom(header: string | null | undefined): string {
	return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
