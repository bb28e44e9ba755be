// Routing rules as the settings page edits them: one rule a line,
// "pattern = backend[:model], backend[:model], ...". A model name may itself hold
// a colon (ollama tags), so only the first colon splits.
import type { RouteRule } from './types'

export function formatRules(rules: RouteRule[]): string {
  return rules
    .map((r) => `${r.pattern} = ${r.targets.map((t) => (t.model ? `${t.backend}:${t.model}` : t.backend)).join(', ')}`)
    .join('\n')
}

export function parseRules(text: string): RouteRule[] | Error {
  const rules: RouteRule[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (!line || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq < 0) return new Error(`line ${i + 1}: write "pattern = target, target"`)
    const pattern = line.slice(0, eq).trim()
    const targets = line.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean).map((t) => {
      const c = t.indexOf(':')
      return c < 0 ? { backend: t } : { backend: t.slice(0, c).trim(), model: t.slice(c + 1).trim() }
    })
    if (!pattern) return new Error(`line ${i + 1}: the pattern is empty`)
    if (targets.length === 0) return new Error(`line ${i + 1}: name at least one target (a backend or local)`)
    rules.push({ pattern, targets })
  }
  return rules
}
