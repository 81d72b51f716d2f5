import type { SessionUser } from '#lib/server/auth/accounts.ts';

declare global {
	namespace App {
		interface Error {
			message: string;
			requestId?: string;
		}
		interface Locals {
			requestId: string;
			user: SessionUser | null;
		}
		interface PageData {
			user?: Pick<SessionUser, 'id' | 'email' | 'displayName' | 'role'> | null;
		}
	}
}

export {};
