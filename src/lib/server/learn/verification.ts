/**
 * Whether an exercise's checks have been verified for its current reference solution and checks:
 * they pass on the solution and at least one fails on the starter code.
 *
 * `exercises.checks_verified_hash` holds `checksHash(exercise)` (starter, solution and checks) when an
 * admin ran the checks in the editor, or `pack:` + that hash when the exercise came from a content
 * pack (the pack's author vouches for it; the starter curriculum's are verified by
 * tests/integration/curriculum.spec.ts). An edit that changes the starter, the solution or the checks
 * leaves the stored hash stale, so the exercise counts as unverified until its checks run again.
 *
 * @example
 * if (!isVerified(exercise)) refuse('run the checks first');
 */
import { createHash } from 'node:crypto';

/** SHA-256 of what a verification covers: the starter, the solution and the checks. */
export function checksHash(code: { starterCode: string; solutionCode: string; checks: string }) {
	return createHash('sha256')
		.update(JSON.stringify([code.starterCode, code.solutionCode, code.checks]))
		.digest('hex');
}

export const PACK_PREFIX = 'pack:';

export type Verification = 'editor' | 'pack' | null;

/** How the exercise's current solution and checks were verified, or null when they were not. */
export function verification(exercise: {
	starterCode: string;
	solutionCode: string;
	checks: string;
	checksVerifiedHash: string | null;
}): Verification {
	const stored = exercise.checksVerifiedHash;
	if (!stored) return null;
	const current = checksHash(exercise);
	if (stored === current) return 'editor';
	if (stored === PACK_PREFIX + current) return 'pack';
	return null;
}

type Code = { starterCode: string; solutionCode: string; checks: string };

/**
 * The hash to store when an exercise is saved: a passing editor run of exactly the saved code
 * records the verification with the save (no second run after the reload); otherwise the stored
 * hash stays only while it still matches, so an edit to the code clears it and students stop
 * seeing the exercise until it is verified again.
 */
export function hashAfterSave(stored: string | null, saved: Code, ran: Code | null): string | null {
	const current = checksHash(saved);
	if (ran && checksHash(ran) === current) return current;
	if (stored === current || stored === PACK_PREFIX + current) return stored;
	return null;
}

export const isVerified = (exercise: Parameters<typeof verification>[0]) =>
	verification(exercise) !== null;
