/**
 * Signed tokens (jose, HS256 only). The access token is short-lived and stateless apart from the
 * user's token version; the refresh token's id is stored hashed so it can be spent exactly once.
 *
 * @example
 * const token = await signAccessToken(secret, { userId, tokenVersion: 0 }, 900);
 * const claims = await verifyAccessToken(secret, token); // null when tampered, expired or foreign
 */
import { SignJWT, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';

const ISSUER = 'ai-coding-tutor';
const ALGORITHMS = ['HS256'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AccessClaims {
	userId: string;
	tokenVersion: number;
	/** The refresh family (one sign-in); logging that session out ends its access tokens too. */
	sessionId?: string;
}
export interface RefreshClaims {
	userId: string;
	familyId: string;
	tokenId: string;
	expiresAt: Date;
}

export function signAccessToken(secret: Uint8Array, claims: AccessClaims, ttlSeconds: number) {
	return new SignJWT({
		ver: claims.tokenVersion,
		...(claims.sessionId ? { sid: claims.sessionId } : {})
	})
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setSubject(claims.userId)
		.setIssuer(ISSUER)
		.setAudience('access')
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
		.sign(secret);
}

export async function verifyAccessToken(
	secret: Uint8Array,
	token: string
): Promise<AccessClaims | null> {
	try {
		const { payload } = await jwtVerify(token, secret, {
			algorithms: ALGORITHMS,
			issuer: ISSUER,
			audience: 'access'
		});
		if (typeof payload.sub !== 'string' || typeof payload.ver !== 'number') return null;
		const sid = typeof payload.sid === 'string' && UUID.test(payload.sid) ? payload.sid : undefined;
		return { userId: payload.sub, tokenVersion: payload.ver, sessionId: sid };
	} catch {
		return null;
	}
}

export function signRefreshToken(secret: Uint8Array, claims: RefreshClaims) {
	return new SignJWT({ fam: claims.familyId })
		.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
		.setSubject(claims.userId)
		.setJti(claims.tokenId)
		.setIssuer(ISSUER)
		.setAudience('refresh')
		.setIssuedAt()
		.setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
		.sign(secret);
}

export async function verifyRefreshToken(
	secret: Uint8Array,
	token: string
): Promise<RefreshClaims | null> {
	try {
		const { payload } = await jwtVerify(token, secret, {
			algorithms: ALGORITHMS,
			issuer: ISSUER,
			audience: 'refresh'
		});
		if (typeof payload.sub !== 'string' || typeof payload.fam !== 'string' || !payload.jti)
			return null;
		return {
			userId: payload.sub,
			familyId: payload.fam,
			tokenId: payload.jti,
			expiresAt: new Date((payload.exp ?? 0) * 1000)
		};
	} catch {
		return null;
	}
}

export function hashTokenId(tokenId: string): string {
	return createHash('sha256').update(tokenId).digest('hex');
}
