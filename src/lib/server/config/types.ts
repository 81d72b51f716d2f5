/**
 * The settings the rest of the server reads, derived from the environment by `loadConfig`. Modules
 * take the `Config` (or a piece of it) as an argument rather than reading the environment.
 *
 * @example
 * function refreshMaxAge(config: Pick<Config, 'refreshTokenTtlDays'>) {
 * 	return config.refreshTokenTtlDays * 86_400;
 * }
 */
import type { ProxySettings } from '#lib/server/http/proxy.ts';
import type { LlmProvider } from './env';

export interface Config {
	production: boolean;
	port: number;
	host: string;
	dataDir: string;
	/** Content pack loaded when the course is empty; '' disables it. */
	starterContentDir: string;
	/** Exam question files loaded on first start when there are no exams (empty: none). */
	questionBankDir: string;
	databaseUrl: string | undefined;
	databasePoolMax: number;
	origin: string | undefined;
	/** Origins allowed to open a WebSocket; compared with the Origin header, never with Host. */
	allowedOrigins: string[];
	jwtSecret: Uint8Array;
	accessTokenTtlSeconds: number;
	refreshTokenTtlDays: number;
	refreshReuseGraceSeconds: number;
	cookieSecure: 'auto' | boolean;
	adminEmails: string[];
	/** A fixed first-administrator setup code (admin/setup.ts); otherwise one is made and logged. */
	adminSetupCode: string | undefined;
	loginRateLimit: { limit: number; windowSeconds: number };
	registerRateLimit: { limit: number; windowSeconds: number };
	/** Password reset and email verification links (auth/recovery.ts). */
	accounts: {
		requireEmailVerification: boolean;
		resetTtlMinutes: number;
		verifyTtlHours: number;
		/** Reset and verification mails per address; a client address gets ten times as many. */
		emailRateLimit: { limit: number; windowSeconds: number };
	};
	/** Single sign-on providers, in the order their buttons show (config/sso.ts). */
	sso: SsoProvider[];
	/** Outgoing mail (alerts, reset and verification links); null when SMTP_HOST is unset. */
	smtp: Smtp | null;
	/**
	 * Request limits with counters in the database (shared by every replica). With `enabled` false
	 * none of these apply, and the tutor limit is lifted too; login and register limits always do.
	 */
	rateLimits: {
		enabled: boolean;
		/** GET, HEAD and OPTIONS on /api/**, per user (per client address when signed out). */
		apiRead: { limit: number; windowSeconds: number };
		/** Every other method on /api/** and every form action. */
		apiWrite: { limit: number; windowSeconds: number };
		/** WebSocket messages per user; send, continue and regenerate use `tutor.rateLimit`. */
		ws: Record<
			'connect' | 'subscribe' | 'unsubscribe' | 'stop',
			{ limit: number; windowSeconds: number }
		>;
	};
	llm: {
		provider: LlmProvider;
		/** The model the configured provider is asked for. */
		model: string;
		anthropicApiKey?: string;
		anthropicBaseUrl?: string;
		openaiApiKey?: string;
		openaiBaseUrl?: string;
		googleApiKey?: string;
		googleBaseUrl: string;
		/** OpenAI-compatible server (Ollama, vLLM, LM Studio). */
		baseUrl?: string;
		apiKey?: string;
		/** Longest silence allowed while an answer streams. */
		timeoutSeconds: number;
		/** Longest wait for the first token (retried before it arrives). */
		firstTokenTimeoutSeconds: number;
		maxRetries: number;
		maxOutputTokens: number;
		/** Token budget for the conversation history sent with each question. */
		historyTokenBudget: number;
		mock: { tokenDelayMs: number; tokenCount: number };
	};
	/** Embeddings for retrieval: Cohere when its key is set, else Voyage, else none. */
	embeddings: {
		provider: 'cohere' | 'voyage' | null;
		apiKey?: string;
		baseUrl: string;
		model: string;
	};
	/** AI cost control: the environment's defaults for what admins can change at run time. */
	cost: {
		/** Daily spend per student and for the whole server, in dollars; 0 means no limit. */
		userDailyUsd: number;
		globalDailyUsd: number;
		/** Students are warned (and the operator alerted) from this share of a limit. */
		warnPercent: number;
		cacheEnabled: boolean;
		cacheTtlSeconds: number;
		routingEnabled: boolean;
		/** The cheaper model for simple questions ('' when the provider has none). */
		cheapModel: string;
		/** Anthropic cache breakpoints (OpenAI and Google cache stable prefixes on their own). */
		promptCache: boolean;
	};
	/** Where budget alerts go. */
	alerts: {
		smtp: Smtp | null;
		emails: string[];
		webhookUrl?: string;
	};
	tutor: {
		/** A generation's claim on its conversation; renewed while it runs, taken over when it lapses. */
		leaseSeconds: number;
		/** How often streamed text is written to the database (and seen by other replicas). */
		flushMs: number;
		/** Tutor requests (send, continue, regenerate) per user per window, across replicas. */
		rateLimit: { limit: number; windowSeconds: number };
		/** WebSocket frames per second per user (all their sockets on a replica) before frames are refused. */
		maxMessagesPerSecond: number;
		/** Open WebSockets per user on each replica; opening them is also limited by `rateLimits.ws.connect`. */
		maxSocketsPerUser: number;
		/**
		 * Start the provider call for a question from what this replica knows of the conversation,
		 * beside the database work, instead of after it (cancelled if the guess was wrong).
		 */
		earlyStart: boolean;
	};
	logLevel: string;
	shutdownGraceSeconds: number;
	practice: {
		/** Review answers a student may give per UTC day; the review queue waits until tomorrow after that. */
		reviewDailyLimit: number;
	};
	wsMaxPayloadBytes: number;
	/** The Python check runner (config/python.ts). */
	python: {
		/** Worker threads, each with its own Pyodide. */
		workers: number;
		/** One check's time limit; the thread is ended and replaced when it is reached. */
		timeoutMs: number;
		/** The most WebAssembly memory one check's interpreter may use. */
		memoryBytes: number;
		/** Checks waiting at most over all users; more are answered 503 with Retry-After. */
		queueMax: number;
		/** Checks one user may have waiting or running; more are answered 429. */
		perUser: number;
	};
	/** Bearer token for /metrics; without one, only private-network peers not behind the proxy. */
	metricsToken: string | undefined;
	/** The reverse proxy's headers, believed only from TRUSTED_PROXIES (see http/proxy.ts). */
	proxy: ProxySettings;
	/** Non-fatal findings for the operator, logged once at start. */
	warnings: string[];
}

export interface Smtp {
	host: string;
	port: number;
	secure: boolean;
	user?: string;
	password?: string;
	from: string;
}

export interface SsoProvider {
	/** google, microsoft, github, or a lower-case name from OIDC_PROVIDERS; part of the callback URL. */
	id: string;
	/** The button's label: "Sign in with <name>". */
	name: string;
	/** OpenID Connect with discovery, or GitHub's OAuth 2 (no ID token; email from its API). */
	kind: 'oidc' | 'github';
	/** The OIDC issuer URL, or GitHub's web URL (https://github.com or a GitHub Enterprise Server). */
	issuer: string;
	clientId: string;
	clientSecret: string;
	/**
	 * Treat the provider's email as verified even without `email_verified` (a school's own Entra
	 * tenant, whose addresses the school issues). Accounts link by verified email only.
	 */
	trustEmail: boolean;
}
