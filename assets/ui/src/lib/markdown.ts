import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import go from 'highlight.js/lib/languages/go'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import markdown from 'highlight.js/lib/languages/markdown'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import { Marked, type Tokens } from 'marked'

// Model output is untrusted: it is rendered as Markdown and then sanitized, so a
// model (or a prompt injection) cannot run script in the UI's origin.

const languages = {
  bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml,
}
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang)
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' })
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' })
hljs.registerAliases(['js', 'jsx', 'mjs'], { languageName: 'javascript' })
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' })
hljs.registerAliases(['py'], { languageName: 'python' })
hljs.registerAliases(['golang'], { languageName: 'go' })
hljs.registerAliases(['yml'], { languageName: 'yaml' })
hljs.registerAliases(['rs'], { languageName: 'rust' })

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

// highlight colours code in a known language; unknown ones stay plain text rather
// than risk a slow, wrong auto-detection on every streamed token.
export function highlight(code: string, lang?: string): string {
  const name = (lang ?? '').trim().split(/\s+/)[0].toLowerCase()
  if (name && hljs.getLanguage(name)) {
    return hljs.highlight(code, { language: name, ignoreIllegals: true }).value
  }
  return escapeHTML(code)
}

const md = new Marked({ gfm: true, breaks: false, async: false })
md.use({
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const label = escapeHTML((lang ?? '').trim().split(/\s+/)[0] || 'text')
      return (
        `<div class="codeblock"><div class="codeblock-head"><span>${label}</span>` +
        `<button type="button" class="copy" data-copy>Copy</button></div>` +
        `<pre><code class="hljs">${highlight(text, lang)}</code></pre></div>`
      )
    },
  },
})

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank')
    node.setAttribute('rel', 'noopener noreferrer')
  }
})

// renderMarkdown turns model output into sanitized HTML.
export function renderMarkdown(src: string): string {
  const html = md.parse(src) as string
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'img'],
    FORBID_ATTR: ['style'],
  })
}

// copyCodeOnClick is the click handler of a rendered message: the Copy buttons
// of its code blocks.
export function copyCodeOnClick(e: MouseEvent): void {
  const btn = (e.target as HTMLElement).closest('[data-copy]') as HTMLButtonElement | null
  if (!btn) return
  const code = btn.closest('.codeblock')?.querySelector('code')?.textContent ?? ''
  void navigator.clipboard?.writeText(code).then(() => {
    btn.textContent = 'Copied'
    setTimeout(() => (btn.textContent = 'Copy'), 1500)
  })
}
