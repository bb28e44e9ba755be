import { useEffect, useRef, useState } from 'preact/hooks'
import { toastError } from '../components/feedback'
import { Badge, Button, Card, Empty, PageHeader, Spinner, Stat } from '../components/ui'
import { api, download, errorMessage } from '../lib/api'
import { followAudit } from '../lib/auditfeed'
import { count, dateTime, detailPairs, ms, when } from '../lib/format'
import { session } from '../lib/session'
import { useStore } from '../lib/store'
import type { AuditEvent, AuditStats, User } from '../lib/types'

interface Filters {
  action: string
  status: string
  model: string
  user: string
}

const empty: Filters = { action: '', status: '', model: '', user: '' }

function query(f: Filters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(extra)
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v)
  return q.toString()
}

function matches(ev: AuditEvent, f: Filters): boolean {
  return (!f.action || ev.action === f.action) && (!f.status || ev.status === f.status) &&
    (!f.model || ev.model === f.model) && (!f.user || ev.user_id === f.user)
}

const statusTone = (s: string) => (s === 'success' ? 'good' : s === 'error' ? 'bad' : 'warn')

export function AuditPage() {
  const me = useStore(session).user!
  const [filters, setFilters] = useState<Filters>(empty)
  const [rows, setRows] = useState<AuditEvent[] | null>(null)
  const [cursor, setCursor] = useState('')
  const [stats, setStats] = useState<AuditStats | null>(null)
  const [users, setUsers] = useState<User[]>([])
  const [connected, setConnected] = useState(false)
  const [error, setError] = useState('')
  const [fresh, setFresh] = useState<Set<string>>(new Set())
  const filtersRef = useRef(filters)
  filtersRef.current = filters
  const statsTimer = useRef<number | undefined>(undefined)

  const loadStats = (f = filtersRef.current) => {
    api.get<AuditStats>(`/api/system/audit-logs/stats?${query(f)}`).then(setStats, () => {})
  }
  const load = async (f: Filters) => {
    setError('')
    try {
      const page = await api.get<{ events: AuditEvent[]; next_cursor?: string }>(`/api/system/audit-logs?${query(f, { limit: '50' })}`)
      setRows(page.events)
      setCursor(page.next_cursor ?? '')
    } catch (err) {
      setError(errorMessage(err))
    }
    loadStats(f)
  }
  const more = async () => {
    try {
      const page = await api.get<{ events: AuditEvent[]; next_cursor?: string }>(`/api/system/audit-logs?${query(filters, { limit: '50', cursor })}`)
      setRows((r) => [...(r ?? []), ...page.events])
      setCursor(page.next_cursor ?? '')
    } catch (err) {
      toastError(err)
    }
  }

  useEffect(() => {
    void load(filters)
  }, [filters])

  useEffect(() => {
    if (me.is_admin) api.get<User[]>('/api/auth/users').then(setUsers, () => {})
    return followAudit((events) => {
      const f = filtersRef.current
      const add = events.filter((e) => matches(e, f))
      if (add.length === 0) return
      if (add.length < 5) setFresh(new Set(add.map((e) => e.id))) // highlight live arrivals, not the snapshot
      setRows((r) => {
        const have = new Set((r ?? []).map((e) => e.id))
        const news = add.filter((e) => !have.has(e.id))
        if (news.length === 0) return r
        return [...news, ...(r ?? [])].sort((a, b) => (a.id < b.id ? 1 : -1))
      })
      clearTimeout(statsTimer.current)
      statsTimer.current = window.setTimeout(() => loadStats(), 500)
    }, setConnected)
  }, [])

  const set = (k: keyof Filters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLSelectElement).value })
  const exportAs = (format: 'csv' | 'jsonl') =>
    download(`/api/system/audit-logs/export?${query(filters, { format })}`, `audit-logs.${format}`).catch((err) => toastError(err, 'Export failed'))
  const actions = Object.keys(stats?.by_action ?? {}).sort()
  const models = Object.keys(stats?.by_model ?? {}).sort()
  const errors = (stats?.by_status.error ?? 0) + (stats?.by_status.cancelled ?? 0)

  return (
    <div class="page">
      <PageHeader title="Audit log" subtitle={me.is_admin ? 'Every sign-in, change and API request' : 'Your sign-ins, changes and API requests'}>
        <span class={`live-pill ${connected ? 'on' : ''}`} data-testid="audit-live"><span class="dot" />{connected ? 'Live' : 'Connecting…'}</span>
        <Button icon="export" onClick={() => exportAs('csv')}>Export CSV</Button>
        <Button icon="export" variant="ghost" onClick={() => exportAs('jsonl')}>JSON lines</Button>
      </PageHeader>
      {stats && (
        <Card>
          <div class="stats">
            <Stat label="Events" value={count(stats.total)} />
            <Stat label="Errors and cancels" value={count(errors)} />
            <Stat label="Tokens" value={count(stats.prompt_tokens + stats.completion_tokens)} hint={`${count(stats.prompt_tokens)} in, ${count(stats.completion_tokens)} out`} />
            <Stat label="Avg duration" value={ms(stats.avg_duration_ms)} />
            <Stat label="Avg first token" value={ms(stats.avg_ttft_ms)} />
          </div>
        </Card>
      )}
      <Card>
        <div class="filters">
          <select aria-label="Action" value={filters.action} onChange={set('action')}>
            <option value="">All actions</option>
            {[...new Set([...actions, filters.action].filter(Boolean))].map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
          <select aria-label="Status" value={filters.status} onChange={set('status')}>
            <option value="">Any status</option>
            <option value="success">success</option>
            <option value="error">error</option>
            <option value="cancelled">cancelled</option>
          </select>
          <select aria-label="Model" value={filters.model} onChange={set('model')}>
            <option value="">All models</option>
            {[...new Set([...models, filters.model].filter(Boolean))].map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
          {me.is_admin && (
            <select aria-label="User" value={filters.user} onChange={set('user')}>
              <option value="">All users</option>
              {users.map((u) => <option key={u.id} value={u.id}>{u.email}</option>)}
            </select>
          )}
          {Object.values(filters).some(Boolean) && <Button size="sm" variant="ghost" onClick={() => setFilters(empty)}>Clear filters</Button>}
        </div>
        {error && <div class="alert alert-bad">{error}</div>}
        {!rows && !error && <div class="center"><Spinner label="Loading" /></div>}
        {rows && rows.length === 0 && <Empty icon="audit" title="No events">Nothing matches these filters yet.</Empty>}
        {rows && rows.length > 0 && (
          <div class="table-wrap">
            <table class="table audit-table">
              <colgroup>
                <col style={{ width: '10%' }} /><col style={{ width: '16%' }} /><col style={{ width: '9%' }} />
                <col style={{ width: '15%' }} /><col style={{ width: '15%' }} /><col style={{ width: '19%' }} />
                <col style={{ width: '8%' }} /><col style={{ width: '8%' }} />
              </colgroup>
              <thead><tr><th>Time</th><th>Action</th><th>Status</th><th>User</th><th>Model</th><th>Details</th><th class="right">Tokens</th><th class="right">Duration</th></tr></thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id} class={fresh.has(e.id) ? 'fresh' : ''} data-testid="audit-row" data-action={e.action}>
                    <td class="nowrap small" title={dateTime(e.time)}>{when(e.time)}</td>
                    <td class="mono small">{e.action}</td>
                    <td><Badge tone={statusTone(e.status)} title={[e.http_status && `HTTP ${e.http_status}`, e.error_message].filter(Boolean).join(': ')}>{e.status}</Badge></td>
                    <td class="small audit-user" title={e.user_email}>{e.user_email || (e.user_id ? e.user_id.slice(0, 8) : '—')}{e.api_key_id && <span class="muted"> (key)</span>}</td>
                    <td class="mono small audit-model" title={e.model}>{e.model || '—'}</td>
                    <td class={`small clamp ${e.error_message ? 'error-text' : e.detail ? '' : 'muted'}`} title={e.error_message || e.detail || e.endpoint}>
                      {e.error_message || (e.detail && <Detail text={e.detail} />) || e.endpoint || '—'}
                    </td>
                    <td class="right small nowrap" title="prompt → completion">{e.prompt_tokens || e.completion_tokens ? `${e.prompt_tokens ?? 0} → ${e.completion_tokens ?? 0}` : '—'}</td>
                    <td class="right small nowrap">{ms(e.duration_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor && <div class="center"><Button onClick={more}>Load older events</Button></div>}
      </Card>
    </div>
  )
}

// Detail shows an event's detail as a definition list when it is key/value pairs.
function Detail({ text }: { text: string }) {
  const pairs = detailPairs(text)
  if (!pairs) return <>{text}</>
  return (
    <dl class="kv" data-testid="audit-detail">
      {pairs.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
    </dl>
  )
}
