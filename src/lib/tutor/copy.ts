/** Click handler for the Copy buttons `renderMarkdown` puts on code blocks (delegate it to a container). */
export async function copyCodeBlock(event: MouseEvent) {
	const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-copy]');
	if (!button) return;
	const code = button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
	try {
		await navigator.clipboard.writeText(code);
		button.textContent = 'Copied';
	} catch {
		button.textContent = 'Copy failed';
	}
	setTimeout(() => (button.textContent = 'Copy'), 1500);
}
