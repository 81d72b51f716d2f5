/**
 * The answer to posting a check run (`POST /api/me/exercises/[id]/attempts`): the server's own
 * verdict on the submitted code, shared by the endpoint and the lesson workspace.
 */
import type { CheckOutcome } from './harness.ts';

export interface AttemptResponse {
	/** The server ran the exercise's checks on the code and every one passed. */
	passed: boolean;
	/** The server's checks, in order (empty when the code was stopped). */
	checks: CheckOutcome[];
	/** The error the code stopped with (`Type: message`), or why it was stopped; null when none. */
	error: string | null;
	/** Why the server stopped the code (time, memory, recursion), or null when it ran. */
	stopped: string | null;
	/** Every exercise of the lesson is now passed. */
	lessonComplete: boolean;
}
