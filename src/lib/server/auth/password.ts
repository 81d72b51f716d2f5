import { hash, verify } from '@node-rs/argon2';

// Argon2id (the library's default algorithm) at OWASP's baseline: 19 MiB, 2 passes, 1 lane.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
	return hash(password, OPTIONS);
}

/** False for an account without a password (single sign-on only), after the same work. */
export async function verifyPassword(
	passwordHash: string | null,
	password: string
): Promise<boolean> {
	if (!passwordHash) return verifyAgainstDummy(password);
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
