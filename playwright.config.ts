import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { oidcPort } from './e2e/ports';

// Debian's Chromium: Playwright's own browser download is not available on these machines.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const port = Number(process.env.E2E_PORT ?? 4173);
const dataDir = mkdtempSync(path.join(tmpdir(), 'tutor-e2e-'));

export default defineConfig({
	testDir: 'e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 60_000,
	reporter: process.env.CI ? [['list']] : [['list']],
	use: {
		baseURL: `http://localhost:${port}`,
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath,
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync'
			]
		}
	},
	webServer: {
		// The README's run command, on an empty embedded database.
		command: 'npm start',
		url: `http://localhost:${port}/health`,
		reuseExistingServer: false,
		timeout: 60_000,
		env: {
			PORT: String(port),
			DATA_DIR: dataDir,
			ADMIN_EMAIL: 'admin@example.com',
			ADMIN_SETUP_CODE: 'e2e-admin-setup-code-0123456789',
			// The scripted tutor: 40 tokens 60 ms apart, so streaming can be watched and interrupted.
			LLM_PROVIDER: 'mock',
			MOCK_TOKEN_DELAY_MS: '60',
			MOCK_TOKEN_COUNT: '40',
			LOG_LEVEL: 'warn',
			// Every e2e test registers its own accounts from this one address.
			REGISTER_RATE_LIMIT: '1000',
			OIDC_PROVIDERS: 'school',
			OIDC_SCHOOL_ISSUER: `http://127.0.0.1:${oidcPort}`,
			OIDC_SCHOOL_CLIENT_ID: 'tutor-e2e',
			OIDC_SCHOOL_CLIENT_SECRET: 'tutor-e2e-secret',
			OIDC_SCHOOL_LABEL: 'School ID',
			// Reset and verification mails; e2e/recovery.spec.ts listens on this port (the app connects
			// only when it sends one).
			SMTP_HOST: '127.0.0.1',
			SMTP_PORT: process.env.E2E_SMTP_PORT ?? '4025'
		}
	}
});
