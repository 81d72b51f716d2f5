/**
 * The secrets in the environment: the token-signing key (generated and kept in the data folder in
 * development, required and checked in production) and the tokens that must not be guessable.
 *
 * @example
 * const secret = signingSecret(env, production, dataDir, problems, warnings);
 * problems.push(...guessableTokens(env)); // e.g. 'METRICS_TOKEN is too guessable; ...'
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Env } from './env';

/** Values copied from examples must never sign real tokens. */
function isPlaceholder(secret: string): boolean {
	const letters = secret.toLowerCase().replace(/[^a-z]/g, '');
	return /changeme|replaceme|yoursecret|placeholder|generatewith|^x+$|^secret$/.test(letters);
}

/** Reads or creates the development signing secret so sessions survive restarts. */
function developmentSecret(dataDir: string): string {
	const file = path.join(dataDir, 'jwt-secret');
	if (existsSync(file)) {
		const existing = readFileSync(file, 'utf8').trim();
		if (existing.length >= 32) return existing;
	}
	mkdirSync(dataDir, { recursive: true });
	const secret = randomBytes(48).toString('base64url');
	writeFileSync(file, secret + '\n', { mode: 0o600 });
	return secret;
}

/**
 * JWT_SECRET_KEY, checked in production; in development a missing or short one is replaced by the
 * generated secret. Undefined only when a problem was recorded.
 */
export function signingSecret(
	env: Env,
	production: boolean,
	dataDir: string,
	problems: string[],
	warnings: string[]
): string | undefined {
	let secret = env.JWT_SECRET_KEY;
	if (production) {
		if (!secret) problems.push('JWT_SECRET_KEY is required in production (32+ random characters)');
		else if (isPlaceholder(secret))
			problems.push('JWT_SECRET_KEY is a placeholder; generate one with `openssl rand -base64 48`');
		else if (secret.length < 32)
			problems.push(`JWT_SECRET_KEY is too short (${secret.length} characters, need 32 or more)`);
	} else if (!secret || secret.length < 32) {
		if (secret)
			warnings.push('JWT_SECRET_KEY is shorter than 32 characters; using a generated one');
		secret = developmentSecret(dataDir);
	}
	return secret;
}

/** METRICS_TOKEN and ADMIN_SETUP_CODE guard privileged access, so weak ones are refused outright. */
export function guessableTokens(env: Env): string[] {
	const problems: string[] = [];
	if (env.METRICS_TOKEN && (env.METRICS_TOKEN.length < 16 || isPlaceholder(env.METRICS_TOKEN)))
		problems.push('METRICS_TOKEN is too guessable; generate one with `openssl rand -hex 32`');
	if (
		env.ADMIN_SETUP_CODE &&
		(env.ADMIN_SETUP_CODE.length < 16 || isPlaceholder(env.ADMIN_SETUP_CODE))
	)
		problems.push('ADMIN_SETUP_CODE is too guessable; use at least 16 random characters');
	return problems;
}
