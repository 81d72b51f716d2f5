/**
 * Renders the tutor's Markdown to HTML that is safe by construction: raw HTML in the text is shown
 * as text, links and images may only use http(s) or mailto, code is highlighted by highlight.js
 * (which escapes it). In the browser the result also passes through DOMPurify.
 *
 * @example
 * container.innerHTML = renderMarkdown('Try `range(1, 6)`');
 */
import { Marked, type Tokens } from 'marked';
import hljs from 'highlight.js/lib/core';
import python from 'highlight.js/lib/languages/python';
import javascript from 'highlight.js/lib/languages/javascript';
import bash from 'highlight.js/lib/languages/bash';
import json from 'highlight.js/lib/languages/json';
import plaintext from 'highlight.js/lib/languages/plaintext';

hljs.registerLanguage('python', python);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('json', json);
hljs.registerLanguage('plaintext', plaintext);
hljs.registerAliases(['py', 'python3', 'pycon'], { languageName: 'python' });
hljs.registerAliases(['js', 'ts', 'typescript'], { languageName: 'javascript' });
hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' });
hljs.registerAliases(['text', 'txt', 'output'], { languageName: 'plaintext' });

const ESCAPES: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;'
};
export function escapeHtml(text: string) {
	return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function safeUrl(href: string): string | null {
	try {
		const url = new URL(href, 'https://example.invalid/');
		return ['http:', 'https:', 'mailto:'].includes(url.protocol) && !href.trim().startsWith('//')
			? href
			: null;
	} catch {
		return null;
	}
}

const marked = new Marked({
	gfm: true,
	breaks: false,
	renderer: {
		html({ text }: Tokens.HTML | Tokens.Tag) {
			return escapeHtml(text);
		},
		code({ text, lang }: Tokens.Code) {
			const language = lang?.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
			const known = language && hljs.getLanguage(language) ? language : null;
			const body = known
				? hljs.highlight(text, { language: known, ignoreIllegals: true }).value
				: escapeHtml(text);
			const label = known ?? (language ? escapeHtml(language) : 'code');
			return `<div class="code-block"><div class="code-head"><span>${label}</span><button type="button" class="copy" data-copy>Copy</button></div><pre><code class="hljs">${body}</code></pre></div>`;
		},
		link({ href, title, tokens }: Tokens.Link) {
			const text = this.parser.parseInline(tokens);
			const url = safeUrl(href);
			if (!url) return text;
			const t = title ? ` title="${escapeHtml(title)}"` : '';
			return `<a href="${escapeHtml(url)}"${t} rel="noopener noreferrer nofollow" target="_blank">${text}</a>`;
		},
		image({ href, text }: Tokens.Image) {
			const url = safeUrl(href);
			return url
				? `<img src="${escapeHtml(url)}" alt="${escapeHtml(text)}" loading="lazy">`
				: escapeHtml(text);
		}
	}
});

export function renderMarkdown(source: string): string {
	return marked.parse(source, { async: false }) as string;
}
