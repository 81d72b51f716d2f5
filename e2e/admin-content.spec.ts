import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { expectAccessible, registerViaUi, setCode, signInAsAdmin, uniqueEmail } from './helpers';

const stamp = Date.now().toString(36);
const MODULE = `Loops in practice ${stamp}`;
const LESSON = `Counting with while ${stamp}`;
const EXERCISE = `Count to three ${stamp}`;

test('an admin writes, verifies and publishes content; a student opens it; packs import and export', async ({
	page,
	browser
}) => {
	test.setTimeout(180_000);
	await signInAsAdmin(page);
	await page.goto('/admin');
	await page
		.getByRole('navigation', { name: 'Admin' })
		.getByRole('link', { name: 'Content' })
		.click();
	await expect(page.getByRole('heading', { name: 'Content', level: 1 })).toBeVisible();
	await expectAccessible(page);

	// A module, with a live preview of its introduction.
	await page.getByRole('link', { name: 'New module' }).click();
	await expect(page.getByRole('heading', { name: 'New module' })).toBeVisible();
	await page.getByLabel('Title', { exact: true }).fill(MODULE);
	await page.getByLabel('Slug', { exact: true }).fill(`loops-${stamp}`);
	await page
		.getByLabel('Summary', { exact: true })
		.fill('Repeat things without repeating yourself.');
	await page
		.getByLabel('Introduction (markdown, optional)', { exact: true })
		.fill('Loops **repeat** code.');
	await expect(page.locator('.preview strong')).toHaveText('repeat');
	await page.getByRole('button', { name: 'Create module' }).click();
	await expect(page.getByText('Module created as a draft.')).toBeVisible();

	// A lesson: a bad slug is refused inline and nothing typed is lost.
	await page.getByRole('link', { name: 'Add its first lesson' }).click();
	// Client-side navigation: wait for the new form before typing (the old page has a Title too).
	await expect(page.getByRole('heading', { name: /^New lesson in/ })).toBeVisible();
	await page.getByLabel('Title', { exact: true }).fill(LESSON);
	await page.getByLabel('Slug', { exact: true }).fill('Not a slug');
	const body = page.getByLabel('Lesson text (markdown)', { exact: true });
	await body.fill('## While loops\n\nA `while` loop runs **while** its condition holds.');
	await expect(page.locator('.preview h2')).toHaveText('While loops');
	await page.getByRole('button', { name: 'Create lesson' }).click();
	await expect(page.getByText('Use lower-case letters, digits and single dashes.')).toBeVisible();
	await expect(body).toHaveValue(/runs \*\*while\*\* its condition/);
	await expect(page.getByLabel('Title', { exact: true })).toHaveValue(LESSON);
	await page.getByLabel('Slug', { exact: true }).fill(`while-${stamp}`);
	await page.getByRole('button', { name: 'Create lesson' }).click();
	await expect(page.getByText('Lesson created as a draft.')).toBeVisible();
	await expectAccessible(page);

	// An exercise, with code in the three editors.
	await page.getByRole('link', { name: '+ Add an exercise' }).click();
	await expect(page.getByRole('heading', { name: /^New exercise in/ })).toBeVisible();
	await page.getByLabel('Title', { exact: true }).fill(EXERCISE);
	await page.getByLabel('Slug', { exact: true }).fill(`count-${stamp}`);
	await page
		.getByLabel('Prompt (markdown)', { exact: true })
		.fill('Print 1, 2 and 3 with a `while` loop.');
	await setCode(page, 'Starter code', 'n = 1\n');
	await setCode(page, 'Reference solution', 'n = 1\nwhile n <= 3:\n    print(n)\n    n += 1\n');
	await setCode(
		page,
		'Checks (Python)',
		'def check_prints():\n    """Prints 1, 2 and 3"""\n    assert output.split() == ["1", "2", "3"], "Print each number on its own line."\n'
	);
	await page.getByRole('button', { name: 'Create exercise' }).click();
	await expect(page.getByText('Exercise created.')).toBeVisible();
	await expect(page.getByText('Not verified yet')).toBeVisible();

	// Publishing the lesson is refused while the exercise is unverified, with the reason.
	await page.getByRole('link', { name: 'Content', exact: true }).first().click();
	await page.getByRole('button', { name: `Publish lesson “${LESSON}”` }).click();
	await expect(
		page.getByRole('alert').filter({ hasText: 'cannot be published yet' })
	).toContainText(EXERCISE);

	// Run checks: they pass on the solution, fail on the starter, and the verification is recorded.
	await page.getByRole('link', { name: LESSON }).click();
	await page.getByRole('link', { name: EXERCISE }).click();
	await page.getByRole('button', { name: 'Run checks' }).click();
	await expect(page.getByText(/^Verified: the checks pass on the solution/)).toBeVisible({
		timeout: 90_000
	});
	const solution = page.getByRole('region', { name: 'Reference solution' });
	const starter = page.getByRole('region', { name: 'Starter code' });
	await expect(solution.locator('li.pass')).toHaveText(/Prints 1, 2 and 3/);
	await expect(starter.locator('li.fail')).toContainText('Print each number on its own line.');
	await expectAccessible(page);

	// Now the lesson and the module publish; the new module moves up with the keyboard.
	await page.goto('/admin/content');
	await page.getByRole('button', { name: `Publish lesson “${LESSON}”` }).click();
	await expect(page.getByRole('button', { name: `Unpublish lesson “${LESSON}”` })).toBeVisible();
	await page.getByRole('button', { name: `Publish module “${MODULE}”` }).click();
	await expect(page.getByRole('button', { name: `Unpublish module “${MODULE}”` })).toBeVisible();
	const titles = () => page.locator('.modules > li .module-row .name h2').allTextContents();
	const before = await titles();
	expect(before.at(-1)).toBe(MODULE);
	const up = page.getByRole('button', { name: `Move module “${MODULE}” up` });
	await up.focus();
	await page.keyboard.press('Enter');
	await expect.poll(titles).toEqual([...before.slice(0, -2), MODULE, before.at(-2)!]);
	await expect(up).toBeFocused();
	await page.screenshot({ path: 'test-results/admin-content.png', fullPage: true });

	// A student sees the published module and opens the lesson and its exercise.
	const context = await browser.newContext();
	const student = await context.newPage();
	await registerViaUi(student, uniqueEmail('reader'), 'Rae Reader');
	await student.goto('/learn');
	await student.getByRole('link', { name: MODULE }).click();
	await student.getByRole('link', { name: LESSON }).click();
	await expect(student.getByRole('heading', { level: 1 })).toHaveText(LESSON);
	await expect(student.getByText(EXERCISE).first()).toBeVisible();
	await context.close();

	// A pack with errors: nothing is imported and each error is listed with its file and line.
	await page.goto('/admin/content/packs');
	await expect(page.getByRole('button', { name: 'Import', exact: true })).toBeEnabled();
	await expectAccessible(page);
	const bad = zipSync({
		'broken/pack.md': strToU8('---\nslug: broken\ntitle: Broken\n---\n'),
		'broken/01-first/module.md': strToU8('---\ntitle: First\ncolour: blue\n---\n'),
		'broken/01-first/01-only/lesson.md': strToU8('---\ntitle: Only\n---\n')
	});
	await page
		.getByLabel('A .zip file')
		.setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from(bad) });
	await page.getByRole('button', { name: /^Import broken\.zip/ }).click();
	const report = page.getByRole('alert');
	await expect(report).toContainText('Nothing was changed');
	await expect(report).toContainText('01-first/module.md:3');
	await expect(report).toContainText('unknown field "colour"');
	await expect(report).toContainText('01-first/01-only/lesson.md');
	await expectAccessible(page);
	await page.screenshot({ path: 'test-results/admin-packs.png', fullPage: true });

	// A good pack chosen as a folder: zipped in the browser with its relative paths, then imported.
	const folder = mkdtempSync(path.join(tmpdir(), 'e2e-pack-'));
	const write = (name: string, text: string) => {
		mkdirSync(path.dirname(path.join(folder, 'extras', name)), { recursive: true });
		writeFileSync(path.join(folder, 'extras', name), text);
	};
	write('pack.md', `---\nslug: extras-${stamp}\ntitle: Extras\n---\nMore practice.\n`);
	write('01-extra-reading/module.md', '---\ntitle: Extra reading\nstatus: draft\n---\n');
	write('01-extra-reading/01-more/lesson.md', '---\ntitle: More\n---\nSome more text.\n');
	await page.getByLabel('A folder').setInputFiles(path.join(folder, 'extras'));
	await page.getByRole('button', { name: /^Import extras\/ \(3 files\)/ }).click();
	await expect(page.getByText('Imported “Extras”')).toBeVisible();
	await expect(page.locator('.result')).toContainText('1 modules, 1 lessons, 0 exercises');
	rmSync(folder, { recursive: true, force: true });

	// Export downloads the whole course as a zip in the pack format.
	const download = page.waitForEvent('download');
	await page.getByRole('link', { name: 'Whole course (.zip)' }).click();
	const file = await download;
	expect(file.suggestedFilename()).toBe('course.zip');
	const files = unzipSync(new Uint8Array(readFileSync(await file.path())));
	const names = Object.keys(files);
	expect(names).toContain('course/pack.md');
	const checks = names.find((n) => n.endsWith(`-count-${stamp}/checks.py`));
	expect(checks && strFromU8(files[checks]!)).toContain('def check_prints');
	expect(names.some((n) => n.includes('broken'))).toBe(false);
});
