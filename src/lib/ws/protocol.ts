/**
 * The WebSocket protocol between the browser and `/ws/v1`, defined once and validated on both ends.
 * Every frame is JSON with a protocol version `v` and a `type`.
 *
 * @example
 * const parsed = v.safeParse(ClientMessage, JSON.parse(frame));
 */
import * as v from 'valibot';

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/ws/v1';

export const ClientMessage = v.variant('type', [
	v.strictObject({
		v: v.literal(PROTOCOL_VERSION),
		type: v.literal('ping'),
		id: v.optional(v.pipe(v.string(), v.maxLength(64)))
	})
]);
export type ClientMessage = v.InferOutput<typeof ClientMessage>;

export const ServerMessage = v.variant('type', [
	v.object({
		v: v.literal(PROTOCOL_VERSION),
		type: v.literal('ready'),
		user: v.object({ id: v.string(), displayName: v.string() })
	}),
	v.object({ v: v.literal(PROTOCOL_VERSION), type: v.literal('pong'), id: v.optional(v.string()) }),
	v.object({
		v: v.literal(PROTOCOL_VERSION),
		type: v.literal('error'),
		code: v.picklist(['bad_request', 'too_large', 'unsupported_version']),
		message: v.string()
	})
]);
export type ServerMessage = v.InferOutput<typeof ServerMessage>;

/** Close code a server sends when it is shutting down: the client reconnects, maybe elsewhere. */
export const CLOSE_SERVER_RESTART = 1012;
