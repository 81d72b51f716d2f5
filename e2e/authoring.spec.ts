import { expect, test, type Page } from '@playwright/test';
import { registerViaUi, setCode, signInAsAdmin, uniqueEmail } from './helpers';

async function writeExercise(page: Page, title: string) {
	await page.getByLabel('Title', { exact: true }).fill(title);
	await page
		.getByLabel('Prompt (markdown)', { exact: true })
		.fill('Print 1, 2 and 3 with a `while` loop.');
	await setCode(page, 'Starter code', 'n = 1\n');
	await setCode(page, 'Reference solution', 'n = 1\nwhile n <= 3:\n    print(n)\n    n += 1\n');
	await setCode(
		page,
		'Checks (Python)',
		'def check_prints():\n    """Prints 1, 2 and 3"""\n    assert output.split() == ["1", "2", "3"]\n'
	);
}

const stamp = Date.now().toString(36);
const MODULE = `Authoring ${stamp}`;
const LESSON = `A published lesson ${stamp}`;
const FIRST = `Verified before saving ${stamp}`;
const SECOND = `Added after publishing ${stamp}`;

test('an exercise added to a published lesson stays invisible to students until it is verified', async ({
	page,
	browser
}) => {
	test.setTimeout(240_000);
	await signInAsAdmin(page);

	// A module: the slug fills itself in from the title.
	await page.goto('/admin/content/modules/new');
	await page.getByLabel('Title', { exact: true }).fill(MODULE);
	await expect(page.getByLabel('Slug', { exact: true })).toHaveValue(`authoring-${stamp}`);
	await page.getByLabel('Summary', { exact: true }).fill('Checks that never mislead.');
	await page.getByRole('button', { name: 'Create module' }).click();
	await expect(page.getByText('Module created as a draft.')).toBeVisible();

	await page.getByRole('link', { name: 'Add its first lesson' }).click();
	await expect(page.getByRole('heading', { name: /^New lesson in/ })).toBeVisible();
	await page.getByLabel('Title', { exact: true }).fill(LESSON);
	await expect(page.getByLabel('Slug', { exact: true })).toHaveValue(`a-published-lesson-${stamp}`);
	await page.getByLabel('Lesson text (markdown)', { exact: true }).fill('## Loops\n\nSome text.');
	await page.getByRole('button', { name: 'Create lesson' }).click();
	await expect(page.getByText('Lesson created as a draft.')).toBeVisible();

	// The first exercise: its checks run in the editor before it is ever saved, and creating it
	// records that run (no second run after the reload).
	await page.getByRole('link', { name: '+ Add an exercise' }).click();
	await expect(page.getByRole('heading', { name: /^New exercise in/ })).toBeVisible();
	await writeExercise(page, FIRST);
	await page.getByRole('button', { name: 'Run checks' }).click();
	await expect(page.getByText(/^The checks work\. Save the exercise to record/)).toBeVisible({
		timeout: 120_000
	});
	await page.getByRole('button', { name: 'Create exercise' }).click();
	await expect(page.getByText('Exercise created. The checks you ran verify it.')).toBeVisible();
	await expect(page.getByText('Not verified yet')).toHaveCount(0);

	// So the lesson and the module publish straight away.
	await page.goto('/admin/content');
	await page.getByRole('button', { name: `Publish lesson “${LESSON}”` }).click();
	await expect(page.getByRole('button', { name: `Unpublish lesson “${LESSON}”` })).toBeVisible();
	await page.getByRole('button', { name: `Publish module “${MODULE}”` }).click();
	await expect(page.getByRole('button', { name: `Unpublish module “${MODULE}”` })).toBeVisible();

	// A second exercise, added to the published lesson and not verified.
	await page.getByRole('link', { name: LESSON }).click();
	await page.getByRole('link', { name: '+ Add an exercise' }).click();
	await expect(page.getByRole('heading', { name: /^New exercise in/ })).toBeVisible();
	await writeExercise(page, SECOND);
	await page.getByRole('button', { name: 'Create exercise' }).click();
	await expect(page.getByText(/Exercise created\. Run its checks to verify it/)).toBeVisible();
	const exerciseUrl = page.url();
	await page.getByRole('link', { name: LESSON }).first().click();
	await expect(page.getByText('Hidden from students until then.')).toBeVisible();

	// The student sees the lesson with the first exercise only.
	const context = await browser.newContext();
	const student = await context.newPage();
	await registerViaUi(student, uniqueEmail('author-reader'), 'Rae Reader');
	await student.goto(`/learn/authoring-${stamp}/a-published-lesson-${stamp}`);
	await expect(student.getByRole('heading', { level: 1 })).toHaveText(LESSON);
	await expect(student.getByText(FIRST).first()).toBeVisible();
	await expect(student.getByText(SECOND)).toHaveCount(0);

	// The admin verifies it; the student's next load shows it.
	await page.goto(exerciseUrl);
	await page.getByRole('button', { name: 'Run checks' }).click();
	await expect(page.getByText(/^Verified: the checks pass on the solution/)).toBeVisible({
		timeout: 120_000
	});
	await student.reload();
	await expect(student.getByText(SECOND).first()).toBeVisible();
	await context.close();
});
