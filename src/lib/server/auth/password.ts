import { hash, verify, Algorithm } from '@node-rs/argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes) keeps a login near 30-50 ms on a small server.
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
	return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	try {
		return await verify(passwordHash, password);
	} catch {
		return false;
	}
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real check so response time does not reveal unknown emails. */
export async function verifyAgainstDummy(password: string): Promise<false> {
	dummy ??= hashPassword('not-a-real-password-' + crypto.randomUUID());
	await verifyPassword(await dummy, password);
	return false;
}
