import { existsSync } from 'node:fs';

/** Loads `.env` from the working directory into process.env; real environment variables win. */
export function loadEnvFile(file = '.env') {
	if (existsSync(file)) process.loadEnvFile(file);
}
