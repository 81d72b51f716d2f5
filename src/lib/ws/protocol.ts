/**
 * The WebSocket protocol between the browser and `/ws/v1`, defined once and validated on both ends.
 * Every frame is JSON with a protocol version `v` and a `type`.
 *
 * A conversation is an ordered log. Every server `event` carries the conversation's sequence number;
 * a client remembers the last one it rendered and subscribes `since` it to get exactly what came after
 * (or a `snapshot` when that is not possible), so a reconnect never loses or repeats text.
 *
 * @example
 * const parsed = v.safeParse(ClientMessage, JSON.parse(frame));
 */
import * as v from 'valibot';

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/ws/v1';
export const MAX_MESSAGE_CHARS = 8000;
/**
 * The largest sequence number: they are stored in PostgreSQL `integer` columns (`last_seq`, `seq`),
 * so a larger one from a client must be refused here, not fail in a query.
 */
export const MAX_SEQ = 2 ** 31 - 1;

/** A sequence number: a whole number from 0 to MAX_SEQ (NaN and Infinity are not numbers here). */
const Seq = v.pipe(
	v.number(),
	v.integer('must be a whole number'),
	v.minValue(0, 'must not be negative'),
	v.maxValue(MAX_SEQ, `must be at most ${MAX_SEQ}`)
);
const Id = v.pipe(v.string(), v.uuid('must be a conversation id'));
const Version = v.literal(PROTOCOL_VERSION);

export const ClientMessage = v.variant('type', [
	v.strictObject({
		v: Version,
		type: v.literal('ping'),
		id: v.optional(v.pipe(v.string(), v.maxLength(64)))
	}),
	v.strictObject({
		v: Version,
		type: v.literal('subscribe'),
		conversationId: Id,
		/** Last sequence number the client rendered; absent or 0 asks for a snapshot. */
		since: v.optional(Seq)
	}),
	v.strictObject({ v: Version, type: v.literal('unsubscribe'), conversationId: Id }),
	v.strictObject({
		v: Version,
		type: v.literal('send'),
		conversationId: Id,
		/** The browser's id for this message: a resend after a reconnect is recognised. */
		clientId: v.pipe(v.string(), v.minLength(8), v.maxLength(64)),
		text: v.pipe(
			v.string(),
			v.trim(),
			v.nonEmpty('Type a message first.'),
			v.maxLength(MAX_MESSAGE_CHARS, `Messages are limited to ${MAX_MESSAGE_CHARS} characters.`)
		)
	}),
	v.strictObject({ v: Version, type: v.literal('stop'), conversationId: Id }),
	/** Continue the last (stopped, interrupted or failed) answer where it ended. */
	v.strictObject({ v: Version, type: v.literal('continue'), conversationId: Id }),
	/** Replace the last answer with a new one. */
	v.strictObject({ v: Version, type: v.literal('regenerate'), conversationId: Id })
]);
export type ClientMessage = v.InferOutput<typeof ClientMessage>;

const MessageId = v.string();

export const MessageStatus = v.picklist([
	'streaming',
	'complete',
	'stopped',
	'error',
	'interrupted'
]);
export type MessageStatus = v.InferOutput<typeof MessageStatus>;

/** Why an answer is not the usual one; the text is shown above it. */
export const NOTICES = {
	budget_warning:
		'You have used most of today’s AI tutor allowance. After that, answers come from a search of the course material until midnight UTC.',
	budget_user:
		'You have reached today’s AI tutor allowance, so this answer comes from a search of the course material. The full tutor is back after midnight UTC.',
	budget_global:
		'The tutor has reached today’s AI budget for this server, so this answer comes from a search of the course material. The full tutor is back after midnight UTC.'
} as const;
export const NoticeCode = v.picklist(
	Object.keys(NOTICES) as [keyof typeof NOTICES, ...(keyof typeof NOTICES)[]]
);
export type NoticeCode = v.InferOutput<typeof NoticeCode>;

export const ChatMessageView = v.object({
	id: MessageId,
	role: v.picklist(['user', 'assistant']),
	content: v.string(),
	status: MessageStatus,
	errorKind: v.nullish(v.string()),
	errorMessage: v.nullish(v.string()),
	notice: v.nullish(NoticeCode),
	seq: Seq
});
export type ChatMessageView = v.InferOutput<typeof ChatMessageView>;

/** One entry of the log, as sent to clients. */
export const LogEvent = v.variant('type', [
	v.object({
		seq: Seq,
		type: v.literal('user'),
		messageId: MessageId,
		text: v.string(),
		clientId: v.nullish(v.string())
	}),
	v.object({
		seq: Seq,
		type: v.literal('start'),
		messageId: MessageId,
		/** Continue appends to an existing answer. */
		continued: v.optional(v.boolean()),
		/** Regenerate replaces an earlier answer. */
		replaces: v.nullish(v.string())
	}),
	v.object({ seq: Seq, type: v.literal('delta'), messageId: MessageId, text: v.string() }),
	v.object({ seq: Seq, type: v.literal('done'), messageId: MessageId }),
	v.object({ seq: Seq, type: v.literal('stopped'), messageId: MessageId }),
	v.object({
		seq: Seq,
		type: v.literal('error'),
		messageId: MessageId,
		kind: v.string(),
		message: v.string(),
		retryable: v.boolean()
	}),
	v.object({ seq: Seq, type: v.literal('interrupted'), messageId: MessageId }),
	/** Said about the answer before its text (a budget warning, the offline fallback). */
	v.object({ seq: Seq, type: v.literal('notice'), messageId: MessageId, notice: NoticeCode })
]);
export type LogEvent = v.InferOutput<typeof LogEvent>;
/** A log event before it has been numbered. */
export type NewLogEvent = LogEvent extends infer E
	? E extends LogEvent
		? Omit<E, 'seq'>
		: never
	: never;

export const ErrorCode = v.picklist([
	'bad_request',
	'too_large',
	'unsupported_version',
	'not_found',
	'busy',
	'rate_limited',
	'nothing_to_continue',
	'internal'
]);
export type ErrorCode = v.InferOutput<typeof ErrorCode>;

export const ServerMessage = v.variant('type', [
	v.object({
		v: Version,
		type: v.literal('ready'),
		user: v.object({ id: v.string(), displayName: v.string() })
	}),
	v.object({ v: Version, type: v.literal('pong'), id: v.optional(v.string()) }),
	v.object({
		v: Version,
		type: v.literal('snapshot'),
		conversationId: v.string(),
		seq: Seq,
		title: v.string(),
		generating: v.boolean(),
		/** The newest messages; `hasEarlier` says older ones can be read page by page. */
		messages: v.array(ChatMessageView),
		hasEarlier: v.optional(v.boolean())
	}),
	v.object({ v: Version, type: v.literal('event'), conversationId: v.string(), event: LogEvent }),
	v.object({
		v: Version,
		type: v.literal('conversation'),
		conversationId: v.string(),
		title: v.string()
	}),
	v.object({
		v: Version,
		type: v.literal('error'),
		code: ErrorCode,
		message: v.string(),
		conversationId: v.optional(v.string()),
		retryAfterSeconds: v.optional(v.number())
	})
]);
export type ServerMessage = v.InferOutput<typeof ServerMessage>;

/** Close code a server sends when it is shutting down: the client reconnects, maybe elsewhere. */
export const CLOSE_SERVER_RESTART = 1012;
/** Close code for a session that ended (logged out): the client must not reconnect blindly. */
export const CLOSE_UNAUTHORIZED = 4401;
