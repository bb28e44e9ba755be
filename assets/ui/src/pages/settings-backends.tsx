// Remote backends and routing rules (admin): the other inference servers this
// daemon may send requests to, their health, and which models go where.
import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Badge, Button, Card, Empty, Field, Modal, Switch } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { ago } from '../lib/format'
import { formatRules, parseRules } from '../lib/routing'
import type { AuditStats, Backend, RouteRule, TokenUsage } from '../lib/types'

type Draft = { id?: string; name: string; kind: 'openai' | 'anthropic'; base_url: string; api_key: string; keep_key: boolean;
  timeout_s: string; models: string; discover: boolean; users: string; http2: string }

const blank: Draft = { name: '', kind: 'openai', base_url: '', api_key: '', keep_key: false, timeout_s: '0', models: '', discover: true, users: '', http2: 'auto' }
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean)

export function BackendsCard() {
  const [backends, setBackends] = useState<Backend[] | null>(null)
  const [editing, setEditing] = useState<Draft | null>(null)
  const [rules, setRules] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const reload = () => api.get<Backend[]>('/api/backends').then(setBackends, (err) => setError(errorMessage(err)))
  useEffect(() => {
    void reload()
    api.get<{ rules: RouteRule[] }>('/api/settings/routing').then((r) => setRules(formatRules(r.rules)), () => {})
  }, [])

  const probe = async () => {
    setBusy(true)
    try {
      setBackends(await api.post<Backend[]>('/api/backends/probe'))
    } catch (err) {
      toastError(err, 'Probe failed')
    } finally {
      setBusy(false)
    }
  }
  const remove = async (b: Backend) => {
    if (!(await confirmAction(`Delete backend ${b.name}?`, 'Its models disappear from /v1/models; rules that name it skip it.', 'Delete'))) return
    try {
      await api.del(`/api/backends/${b.id}`)
      toast(`Backend ${b.name} deleted`)
      void reload()
    } catch (err) {
      toastError(err)
    }
  }
  const saveRules = async (e: Event) => {
    e.preventDefault()
    const parsed = parseRules(rules)
    if (parsed instanceof Error) {
      setError(parsed.message)
      return
    }
    setError('')
    try {
      const r = await api.put<{ rules: RouteRule[] }>('/api/settings/routing', { rules: parsed })
      setRules(formatRules(r.rules))
      toast('Routing rules saved')
    } catch (err) {
      setError(errorMessage(err))
    }
  }
  const edit = (b: Backend) => setEditing({ id: b.id, name: b.name, kind: b.kind, base_url: b.base_url, api_key: '', keep_key: b.has_key,
    timeout_s: String(b.timeout_s), models: b.models.join(', '), discover: b.discover, users: b.users.join(', '), http2: b.http2 })

  return (
    <Card title="Remote backends" id="backends-settings" actions={<>
      <Button size="sm" busy={busy} onClick={probe} disabled={!backends?.length}>Probe now</Button>
      <Button size="sm" variant="primary" onClick={() => setEditing({ ...blank })}>Add backend</Button>
    </>}>
      <div class="stack">
        {backends && backends.length === 0 && (
          <Empty title="No backends">Send some models to vLLM, llama-server, Ollama, OpenAI or Anthropic: requests keep their keys and the audit log.</Empty>
        )}
        {backends && backends.length > 0 && (
          <table class="table">
            <thead><tr><th>Name</th><th>Kind</th><th>URL</th><th>Key</th><th>Models</th><th>Health</th><th /></tr></thead>
            <tbody>
              {backends.map((b) => (
                <tr key={b.id}>
                  <td>{b.name}</td>
                  <td>{b.kind}</td>
                  <td class="mono small">{b.base_url}</td>
                  <td class="mono small">{b.has_key ? `••••${b.key_last4 ?? ''}` : 'none'}</td>
                  <td class="small">{[...b.models, ...(b.health.discovered ?? []).filter((m) => !b.models.includes(m))].join(', ') || '—'}</td>
                  <td>
                    {!b.health.healthy ? <Badge tone="bad" title={b.health.last_error}>circuit open</Badge>
                      : b.health.failures > 0 ? <Badge tone="warn" title={b.health.last_error}>failing ({b.health.failures})</Badge>
                        : <Badge tone="good">healthy</Badge>}
                    {b.health.last_error && <div class="muted small" title={b.health.last_error}>{b.health.last_error.slice(0, 80)}</div>}
                    {b.health.checked_at && <div class="muted small">checked {ago(b.health.checked_at)}</div>}
                  </td>
                  <td>
                    <Button size="sm" variant="ghost" onClick={() => edit(b)}>Edit</Button>
                    <Button size="sm" variant="ghost" onClick={() => void remove(b)}>Delete</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form class="stack" onSubmit={saveRules}>
          <Field label="Routing rules" hint="One a line: pattern = targets in order. A pattern is a model or profile name, or a prefix ending in *; a target is a backend or local, with :model to ask for another name. A model a backend lists needs no rule.">
            <textarea name="rules" rows={4} class="mono" placeholder={'gpt-* = openai\nqwen-large = gpu:Qwen/Qwen2.5-32B-Instruct, local:mlx-community/Qwen2.5-0.5B-Instruct-4bit'}
              value={rules} onInput={(e) => setRules((e.currentTarget as HTMLTextAreaElement).value)} />
          </Field>
          {error && <div class="alert alert-bad">{error}</div>}
          <div><Button type="submit">Save rules</Button></div>
        </form>
        <UsageThisMonth />
      </div>
      {editing && <BackendForm draft={editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); void reload() }} />}
    </Card>
  )
}

function BackendForm({ draft, onClose, onSaved }: { draft: Draft; onClose: () => void; onSaved: () => void }) {
  const [d, setD] = useState(draft)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const set = (k: keyof Draft) => (e: Event) => setD({ ...d, [k]: (e.currentTarget as HTMLInputElement).value })
  const save = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    const body: Record<string, unknown> = { name: d.name.trim(), kind: d.kind, base_url: d.base_url.trim(), timeout_s: Number(d.timeout_s) || 0,
      models: list(d.models), discover: d.discover, users: list(d.users), http2: d.http2 }
    if (!d.keep_key || d.api_key) body.api_key = d.api_key // absent: the stored key stays
    try {
      if (d.id) await api.put(`/api/backends/${d.id}`, body)
      else await api.post('/api/backends', body)
      toast(`Backend ${body.name} saved`)
      onSaved()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <Modal title={d.id ? `Edit ${draft.name}` : 'Add a backend'} onClose={onClose} footer={<>
      <Button variant="ghost" onClick={onClose}>Cancel</Button>
      <Button variant="primary" busy={busy} onClick={(e: Event) => void save(e)}>Save</Button>
    </>}>
      <form class="form-grid" onSubmit={save}>
        <div class="form-row">
          <Field label="Name"><input name="name" required value={d.name} onInput={set('name')} placeholder="gpu" /></Field>
          <Field label="Speaks">
            <select name="kind" value={d.kind} onChange={set('kind')}>
              <option value="openai">OpenAI API (vLLM, SGLang, llama-server, Ollama, LM Studio, OpenAI, Groq…)</option>
              <option value="anthropic">Anthropic API</option>
            </select>
          </Field>
        </div>
        <Field label="Base URL" hint="Where /chat/completions and /models start, e.g. http://gpu-box:8000/v1 or https://api.anthropic.com/v1">
          <input name="base_url" required value={d.base_url} onInput={set('base_url')} placeholder="http://gpu-box:8000/v1" />
        </Field>
        <Field label="API key" hint={d.keep_key ? 'A key is stored: leave empty to keep it.' : 'Stored encrypted; never shown again, only its last 4 characters.'}>
          <input name="api_key" type="password" autocomplete="off" value={d.api_key} onInput={set('api_key')} />
        </Field>
        {d.keep_key && <Switch checked={!d.keep_key} onChange={(v) => setD({ ...d, keep_key: !v })} label="Remove the stored key" />}
        <div class="form-row">
          <Field label="Models" hint="Comma-separated; requests for them come here"><input name="models" value={d.models} onInput={set('models')} /></Field>
          <Field label="Timeout (s)" hint="Until the answer starts; 0: 5 minutes"><input name="timeout_s" type="number" min="0" max="3600" value={d.timeout_s} onInput={set('timeout_s')} /></Field>
        </div>
        <Switch checked={d.discover} onChange={(v) => setD({ ...d, discover: v })} label="Discover its models (GET /models, every 30 s)" />
        <Field label="HTTP/2" hint="On asks an http:// server once whether it speaks HTTP/2 without TLS (another MLX Manager does; vLLM and llama-server do not), so its streams share one connection; HTTP/1.1 if not.">
          <select name="http2" value={d.http2} onChange={set('http2')}>
            <option value="auto">auto (HTTP/2 over https://, HTTP/1.1 over http://)</option>
            <option value="on">on (also HTTP/2 over http:// when the server speaks it)</option>
            <option value="off">off (HTTP/1.1 only)</option>
          </select>
        </Field>
        <Field label="Only these users or API keys" hint="User ids or API key ids, comma-separated; empty: everyone"><input name="users" value={d.users} onInput={set('users')} /></Field>
        {error && <div class="alert alert-bad">{error}</div>}
      </form>
    </Modal>
  )
}

// UsageThisMonth sums the tokens of this month's /v1 requests per backend and per
// user, from the audit log.
function UsageThisMonth() {
  const [stats, setStats] = useState<AuditStats | null>(null)
  useEffect(() => {
    const now = new Date()
    const from = new Date(now.getFullYear(), now.getMonth(), 1).toISOString()
    api.get<AuditStats>(`/api/system/audit-logs/stats?action=v1&from=${encodeURIComponent(from)}`).then(setStats, () => {})
  }, [])
  const table = (title: string, rows: Record<string, TokenUsage> | undefined) => {
    const names = Object.keys(rows ?? {}).sort()
    if (!rows || names.length === 0) return null
    return (
      <table class="table">
        <thead><tr><th>{title}</th><th>Requests</th><th>Prompt tokens</th><th>Completion tokens</th></tr></thead>
        <tbody>
          {names.map((n) => (
            <tr key={n}><td>{n}</td><td>{rows[n].requests}</td><td>{rows[n].prompt_tokens}</td><td>{rows[n].completion_tokens}</td></tr>
          ))}
        </tbody>
      </table>
    )
  }
  if (!stats) return null
  const byBackend = table('Backend', stats.tokens_by_backend)
  const byUser = table('User', stats.tokens_by_user)
  if (!byBackend && !byUser) return null
  return (
    <div class="stack">
      <h3>Tokens this month</h3>
      {byBackend}
      {byUser}
    </div>
  )
}
