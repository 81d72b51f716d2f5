// Screenshots for the README and for looking at the UI: `node scripts/screenshots.ts [baseUrl]`
// against a running server (ADMIN_EMAIL must include admin@example.com, and ADMIN_SETUP_CODE must equal
// SCREENSHOT_ADMIN_SETUP_CODE, for the admin pages). With SCREENSHOT_SMTP_PORT set to the server's
// SMTP_PORT (SMTP_HOST=127.0.0.1), the password reset pages are shot from a real mailed link.
import { chromium, type Page } from 'playwright-core';
import { linkIn, startMailbox } from '../tests/fakes/mailbox.ts';

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
	const code = process.env.SCREENSHOT_ADMIN_SETUP_CODE;
	if (!code) return;
	await page.goto(base + '/admin');
	if (page.url().endsWith('/admin-setup')) {
		await page.getByLabel('Setup code').fill(code);
		await page.getByRole('button', { name: 'Become administrator' }).click();
		await page.waitForURL(/\/admin$/);
	}
	// Setups go on from the dashboard, where signing in lands.
	await page.goto(base + '/dashboard');
}

await shoot('landing', '/');
await shoot('landing-dark', '/', { scheme: 'dark' });
await shoot('landing-mobile', '/', { width: 390, height: 844 });
// With single sign-on providers configured on the server, their buttons show here.
await shoot('login-sso', '/login', { height: 720 });
await shoot('register-errors', null, {
	setup: async (page) => {
		await page.goto(base + '/register');
		await page.getByLabel('Email').fill('not-an-email');
		await page.getByRole('button', { name: 'Create account' }).click();
		await page.getByText('Enter a display name.').waitFor();
	}
});
if (process.env.SCREENSHOT_SMTP_PORT) await resetPages(Number(process.env.SCREENSHOT_SMTP_PORT));

async function resetPages(smtpPort: number) {
	const mailbox = await startMailbox(smtpPort);
	const email = 'grace@example.com';
	await shoot('forgot-password', '/forgot-password');
	await shoot('forgot-password-sent', null, {
		setup: async (page) => {
			await signIn(page, email, 'Grace Hopper');
			await page.context().clearCookies();
			await page.goto(base + '/forgot-password');
			await page.getByLabel('Email').fill(email);
			await page.getByRole('button', { name: 'Send me a link' }).click();
			await page.getByRole('status').waitFor();
		}
	});
	let mail = await mailbox.next(email);
	while (!mail.subject.startsWith('Reset')) mail = await mailbox.next(email);
	const link = linkIn(mail, '/reset-password');
	await shoot('reset-password', link.pathname + link.search);
	await mailbox.close();
}

await shoot('account', '/account', { setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace') });
await shoot('account-dark', '/account', {
	scheme: 'dark',
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
await shoot('admin', '/admin', { setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher') });
await shoot('admin-sign-in', '/admin/sign-in', {
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('tutor', null, {
	setup: async (page) => {
		await signIn(page, 'ada@example.com', 'Ada Lovelace');
		await page.getByRole('button', { name: 'Ask the tutor' }).click();
		// Enter does nothing until the page is hydrated: press it until the field clears (as e2e's askTutor).
		const field = page.getByLabel('Message the tutor');
		for (let sent = false; !sent;) {
			await field.fill('Why does my while loop never stop?');
			await field.press('Enter');
			sent = await page
				.waitForFunction(() => !document.querySelector('textarea')?.value, null, { timeout: 1000 })
				.then(
					() => true,
					() => false
				);
		}
		await page.getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 20_000 });
	}
});
async function lessonWithCheck(page: Page) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/learn/values-and-types/numbers-and-arithmetic');
	await page.getByRole('button', { name: /^Run/ }).waitFor();
	await page.waitForFunction(
		() => !document.querySelector('.workspace button.btn[disabled]'),
		null,
		{
			timeout: 60_000
		}
	);
	await page.getByRole('textbox', { name: /^Code for/ }).click();
	await page.keyboard.press('ControlOrMeta+A');
	await page.keyboard.insertText('def area(width, height):\n    return width + height\n');
	await page.getByRole('button', { name: /^Check/ }).click();
	await page.getByText(/Checks: \d of 3 passed/).waitFor();
}
await shoot('learn', '/learn', { setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace') });
await shoot('lesson', null, { width: 1440, height: 900, setup: lessonWithCheck });
await shoot('lesson-dark', null, {
	scheme: 'dark',
	width: 1440,
	height: 900,
	setup: lessonWithCheck
});
await shoot('lesson-mobile', null, { width: 390, height: 844, setup: lessonWithCheck });

// The Python lab: the module page's notebook card, and the lab with the first cell run.
async function moduleNotebook(page: Page) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/learn/values-and-types');
}
async function labCellRun(page: Page) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/jupyterlite/lab/index.html?path=values-and-types.ipynb');
	const cell = page.locator('.jp-Notebook .jp-CodeCell').first();
	await cell.locator('.cm-content').click({ timeout: 60_000 });
	await page.keyboard.press('Shift+Enter');
	await cell.locator('.jp-OutputArea-output').waitFor({ timeout: 120_000 });
}
await shoot('module-notebook', null, { setup: moduleNotebook });
await shoot('module-notebook-dark', null, { scheme: 'dark', setup: moduleNotebook });
await shoot('module-notebook-mobile', null, { width: 390, height: 844, setup: moduleNotebook });
await shoot('lab', null, { width: 1440, height: 900, setup: labCellRun });
await shoot('dashboard', '/dashboard', {
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
async function practiceFeedback(page: Page) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/practice/session?exam=python-entry&mode=practice');
	const q = page.locator('article.question');
	await q.waitFor();
	while (await q.getByText('Write code').count())
		await page.getByRole('button', { name: 'Skip' }).click();
	if (await q.locator('input[type="radio"], input[type="checkbox"]').count())
		await page.keyboard.press('2');
	else await q.locator('input[type="text"], textarea').fill('42');
	await page.getByRole('button', { name: /Submit answer/ }).click();
	await page.locator('section.feedback').waitFor();
}
async function mockExam(page: Page) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/practice');
	await page.getByRole('button', { name: 'Start mock exam' }).click();
	await page.getByRole('timer').waitFor();
}
async function mockScore(page: Page) {
	await mockExam(page);
	page.once('dialog', (d) => d.accept());
	await page.getByRole('button', { name: 'Submit exam' }).click();
	await page.getByRole('heading', { name: /Your score/ }).waitFor();
}
async function diagnostic(page: Page, finish: boolean) {
	await signIn(page, 'ada@example.com', 'Ada Lovelace');
	await page.goto(base + '/practice');
	await page.getByRole('button', { name: /diagnostic: Data structures/ }).click();
	await page.locator('article.question').waitFor();
	for (let i = 1; finish && i <= 8; i++) {
		const q = page.locator('article.question');
		await q.getByRole('heading', { name: `Question ${i} of 8` }).waitFor();
		if (await q.locator('input[type="radio"], input[type="checkbox"]').count())
			await page.keyboard.press('1');
		else await q.locator('input[type="text"], textarea').fill('42');
		await page.getByRole('button', { name: i === 8 ? /^Finish/ : /^Next/ }).click();
	}
	if (finish) await page.getByTestId('level').waitFor();
}
await shoot('diagnostic', null, { setup: (p) => diagnostic(p, false) });
await shoot('diagnostic-result', null, { setup: (p) => diagnostic(p, true) });
await shoot('admin-question-new', '/admin/questions/new', {
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('practice', '/practice', {
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
await shoot('practice-dark', '/practice', {
	scheme: 'dark',
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
await shoot('practice-feedback', null, { height: 1000, setup: practiceFeedback });
await shoot('practice-feedback-mobile', null, { width: 390, height: 844, setup: practiceFeedback });
await shoot('mock-exam', null, { setup: mockExam });
await shoot('mock-score', null, { setup: mockScore });
await shoot('practice-stats', '/practice/stats', {
	height: 1100,
	setup: (p) => signIn(p, 'ada@example.com', 'Ada Lovelace')
});
await shoot('admin-questions', '/admin/questions', {
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('admin-question-edit', null, {
	height: 1100,
	setup: async (p) => {
		await signIn(p, 'admin@example.com', 'Head Teacher');
		await p.goto(base + '/admin/questions?kind=code');
		await p.locator('table a').first().click();
		await p.getByRole('heading', { name: /Edit question/ }).waitFor();
	}
});
await shoot('admin-questions-import', '/admin/questions/import', {
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
async function adminLesson(page: Page) {
	await signIn(page, 'admin@example.com', 'Head Teacher');
	await page.goto(base + '/admin/content');
	await page.locator('.lesson-row .name a').first().click();
	await page.getByRole('heading', { name: 'Edit lesson' }).waitFor();
}
async function adminExerciseChecks(page: Page) {
	await adminLesson(page);
	await page.locator('.exercises li .name a').first().click();
	await page.getByRole('button', { name: 'Run checks' }).click();
	await page.getByRole('region', { name: 'Starter code' }).locator('li').first().waitFor({
		timeout: 90_000
	});
	await page.locator('.checks').scrollIntoViewIfNeeded();
}
async function adminPackErrors(page: Page) {
	const { strToU8, zipSync } = await import('fflate');
	await signIn(page, 'admin@example.com', 'Head Teacher');
	await page.goto(base + '/admin/content/packs');
	await page.locator('form[enctype] button:not([disabled])').waitFor();
	const zip = zipSync({
		'broken/pack.md': strToU8('---\nslug: broken\ntitle: Broken\n---\n'),
		'broken/01-first/module.md': strToU8('---\ntitle: First\ncolour: blue\n---\n'),
		'broken/01-first/01-only/lesson.md': strToU8('---\ntitle: Only\n---\n'),
		'broken/02 second/module.md': strToU8('---\ntitle: Second\n---\n')
	});
	await page
		.getByLabel('A .zip file')
		.setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
	await page.getByRole('button', { name: /^Import broken/ }).click();
	await page.getByText('Nothing was changed').waitFor();
}
await shoot('admin-content', '/admin/content', {
	height: 1000,
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('admin-content-dark', '/admin/content', {
	scheme: 'dark',
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('admin-content-mobile', '/admin/content', {
	width: 390,
	height: 844,
	setup: (p) => signIn(p, 'admin@example.com', 'Head Teacher')
});
await shoot('admin-lesson-edit', null, { width: 1440, height: 1400, setup: adminLesson });
await shoot('admin-exercise-checks', null, {
	width: 1440,
	height: 1000,
	setup: adminExerciseChecks
});
await shoot('admin-exercise-checks-dark', null, {
	scheme: 'dark',
	width: 1440,
	height: 1000,
	setup: adminExerciseChecks
});
await shoot('admin-packs-errors', null, { setup: adminPackErrors });
await browser.close();
console.log(`screenshots written to ${out}/`);
