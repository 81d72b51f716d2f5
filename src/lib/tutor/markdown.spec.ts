import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown.ts';

describe('renderMarkdown', () => {
	it('renders Markdown and highlights Python', () => {
		const html = renderMarkdown(
			'Use **range**:\n\n```python\nfor i in range(3):\n    print(i)\n```'
		);
		expect(html).toContain('<strong>range</strong>');
		expect(html).toContain('class="hljs"');
		expect(html).toContain('<span class="hljs-keyword">for</span>');
		expect(html).toContain('data-copy');
	});

	it('shows raw HTML as text, never as markup', () => {
		const html = renderMarkdown(
			'Hi <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<iframe src="https://evil.example"></iframe>'
		);
		expect(html).not.toMatch(/<script|<img|<iframe/i);
		expect(html).toContain('&lt;script&gt;');
	});

	it('drops javascript: and data: links and images', () => {
		for (const md of [
			'[x](javascript:alert(1))',
			'[x](JAVASCRIPT:alert(1))',
			'[x](data:text/html,<script>alert(1)</script>)',
			'![x](javascript:alert(1))',
			'[x](//evil.example/path)'
		]) {
			const html = renderMarkdown(md);
			expect(html).not.toMatch(/href=|src=/);
		}
		expect(renderMarkdown('[docs](https://docs.python.org)')).toContain(
			'<a href="https://docs.python.org" rel="noopener noreferrer nofollow" target="_blank">docs</a>'
		);
	});

	it('escapes code in unknown languages and in inline code', () => {
		expect(renderMarkdown('```weird\n<b>x</b>\n```')).toContain('&lt;b&gt;x&lt;/b&gt;');
		expect(renderMarkdown('`<b>`')).toContain('<code>&lt;b&gt;</code>');
	});
});
