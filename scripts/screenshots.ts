// Screenshots for the README and for looking at the UI: `node scripts/screenshots.ts [baseUrl]`
// against a running server (ADMIN_EMAIL must include admin@example.com for the admin page).
import { chromium, type Page } from 'playwright-core';

interface ShotOptions {
	scheme?: 'light' | 'dark';
	width?: number;
	height?: number;
	setup?: (page: Page) => Promise<unknown>;
}

const base = process.argv[2] ?? 'http://localhost:3000';
const out = 'docs/screenshots';
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
});

async function shoot(
	name: string,
	path: string | null,
	{ scheme = 'light', width = 1280, height = 800, setup }: ShotOptions = {}
) {
	const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
	const page = await context.newPage();
	if (setup) await setup(page);
	if (path) await page.goto(base + path);
	await page.screenshot({ path: `${out}/${name}.png`, fullPage: false });
	await context.close();
}

async function signIn(page: Page, email: string, name: string) {
	await page.goto(base + '/register');
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Display name').fill(name);
	await page.getByLabel('Password', { exact: true }).fill('screenshot password 1');
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.waitForURL(/dashboard/).catch(async () => {
		await page.goto(base + '/login');
		await page.getByLabel('Email').fill(email);
		await page.getByLabel('Password').fill('screenshot password 1');
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(/dashboard/);
	});
}

await shoot('landing', '/');
await shoot('landing-dark', '/', { scheme: 'dark' });
await shoot('landing-mobile', '/', { width: 390, height: 844 });
await shoot('register-errors', null, {
	setup: async (page) => {
		await page.goto(base + '/register');
		await page.getByLabel('Email').fill('not-an-email');
		await page.getByRole('button', { name: 'Create account' }).click();
		await page.getByText('Enter a display name.').waitFor();
	}
});
await shoot('account', '/account', { setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace') });
await shoot('account-dark', '/account', {
	scheme: 'dark',
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
await shoot('admin', '/admin', { setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher') });
await shoot('tutor', null, {
	setup: async (page) => {
		await signIn(page, 'ada@example.com', 'Ada Lovelace');
		await page.getByRole('button', { name: 'Ask the tutor' }).click();
		await page.getByLabel('Message the tutor').fill('Why does my while loop never stop?');
		await page.keyboard.press('Enter');
		await page.getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 20_000 });
	}
});
await browser.close();
console.log(`screenshots written to ${out}/`);
