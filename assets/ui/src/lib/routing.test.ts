import { describe, expect, it } from 'vitest'
import { formatRules, parseRules } from './routing'

describe('routing rules text', () => {
  it('round-trips rules, models with colons included', () => {
    const rules = [
      { pattern: 'gpt-*', targets: [{ backend: 'openai' }, { backend: 'local', model: 'org/small' }] },
      { pattern: 'llama', targets: [{ backend: 'ollama', model: 'llama3.2:3b' }] },
    ]
    const text = formatRules(rules)
    expect(text).toBe('gpt-* = openai, local:org/small\nllama = ollama:llama3.2:3b')
    expect(parseRules(text)).toEqual(rules)
  })
  it('skips blank and comment lines', () => {
    expect(parseRules('\n# a comment\n  a = b  \n')).toEqual([{ pattern: 'a', targets: [{ backend: 'b' }] }])
  })
  it('names the line at fault', () => {
    expect((parseRules('a = b\nnonsense') as Error).message).toMatch(/line 2/)
    expect((parseRules('a = ') as Error).message).toMatch(/line 1: name at least one target/)
    expect((parseRules(' = b') as Error).message).toMatch(/line 1: the pattern is empty/)
  })
})
