import type { SessionUser } from '#lib/server/auth/accounts.ts';
import type { Services } from '#lib/server/services.ts';

declare global {
	namespace App {
		interface Error {
			message: string;
			requestId?: string;
		}
		interface Locals {
			requestId: string;
			/** Set by servicesHandle (lib/server/http/handover.ts) before any route runs. */
			services: Services;
			user: SessionUser | null;
		}
		interface PageData {
			user?: Pick<SessionUser, 'id' | 'email' | 'displayName' | 'role'> | null;
		}
	}
}

export {};
