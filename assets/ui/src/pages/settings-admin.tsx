import { useEffect, useState } from 'preact/hooks'
import { toast, toastError } from '../components/feedback'
import { Badge, Button, Card, Field, Switch } from '../components/ui'
import { api } from '../lib/api'
import { formatBudget, parseBudget } from '../lib/budget'
import { bytes, ttl } from '../lib/format'
import type { AuditRetention, AuthSettings, HubSettings, PoolSettings } from '../lib/types'

export function PoolCard() {
  const [set, setSet] = useState<PoolSettings | null>(null)
  const [budget, setBudget] = useState('')
  const [maxModels, setMaxModels] = useState('0')
  const [parallel, setParallel] = useState('0')
  const [ttlMode, setTTLMode] = useState<'default' | 'forever' | 'minutes'>('default')
  const [minutes, setMinutes] = useState('30')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  const show = (s: PoolSettings) => {
    setSet(s)
    setBudget(formatBudget(s.budget))
    setMaxModels(String(s.max_models))
    setParallel(String(s.parallel ?? 0))
    const t = s.default_ttl_seconds
    setTTLMode(t == null ? 'default' : t < 0 ? 'forever' : 'minutes')
    if (t && t > 0) setMinutes(String(Math.round(t / 60)))
  }
  useEffect(() => {
    api.get<PoolSettings>('/api/settings/pool').then(show, (err) => setError(String(err.message)))
  }, [])

  const save = async (e: Event) => {
    e.preventDefault()
    const b = parseBudget(budget)
    if (b instanceof Error) {
      setError(b.message)
      return
    }
    setBusy(true)
    setError('')
    try {
      show(await api.put<PoolSettings>('/api/settings/pool', {
        budget: b,
        max_models: Number(maxModels) || 0,
        parallel: Number(parallel) || 0,
        default_ttl_seconds: ttlMode === 'default' ? null : ttlMode === 'forever' ? -1 : Math.round(Number(minutes) * 60),
        eviction_policy: 'lru',
      }))
      toast('Pool settings saved and applied')
    } catch (err) {
      setError((err as Error).message)
    } finally {
      setBusy(false)
    }
  }

  const eff = set?.effective
  return (
    <Card title="Model pool" id="pool-settings">
      <form class="form-grid" onSubmit={save}>
        <div class="form-row">
          <Field label="Memory budget" hint={eff ? `Now ${eff.budget_bytes ? bytes(eff.budget_bytes) : 'no cap'}${eff.total_ram_bytes ? ` of ${bytes(eff.total_ram_bytes)} RAM` : ''}. Empty: the default.` : undefined}>
            <input name="budget" placeholder="e.g. 70% or 16 GB" value={budget} onInput={(e) => setBudget((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <Field label="Max models loaded" hint="0: no limit">
            <input name="max_models" type="number" min="0" max="64" value={maxModels} onInput={(e) => setMaxModels((e.currentTarget as HTMLInputElement).value)} />
          </Field>
        </div>
        <div class="form-row">
          <Field label="Unload idle models" hint={eff ? `Now: ${ttl(eff.default_ttl_seconds)}` : undefined}>
            <select value={ttlMode} onChange={(e) => setTTLMode((e.currentTarget as HTMLSelectElement).value as typeof ttlMode)}>
              <option value="default">After the default time</option>
              <option value="minutes">After some minutes</option>
              <option value="forever">Never</option>
            </select>
          </Field>
          {ttlMode === 'minutes' && (
            <Field label="Minutes idle">
              <input type="number" min="1" value={minutes} onInput={(e) => setMinutes((e.currentTarget as HTMLInputElement).value)} />
            </Field>
          )}
        </div>
        <div class="form-row">
          <Field label="Parallel requests per model" hint={`Decoded together and shared fairly between users: a user with nothing running takes a slot at once. ${eff ? `Now ${eff.parallel}. ` : ''}0: the daemon's --parallel.`}>
            <input name="parallel" type="number" min="0" max="64" value={parallel} onInput={(e) => setParallel((e.currentTarget as HTMLInputElement).value)} />
          </Field>
        </div>
        <p class="muted small">When memory runs short, the least recently used idle model is unloaded first. Pinned models stay.</p>
        {error && <div class="alert alert-bad">{error}</div>}
        <div><Button type="submit" variant="primary" busy={busy} disabled={!set}>Save pool settings</Button></div>
      </form>
    </Card>
  )
}

export function HubCard() {
  const [set, setSet] = useState<HubSettings | null>(null)
  const [token, setToken] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    api.get<HubSettings>('/api/settings/hub').then(setSet, (err) => toastError(err, 'Hub settings'))
  }, [])
  const put = async (body: { token?: string; offline?: boolean }, done: string) => {
    setBusy(true)
    try {
      setSet(await api.put<HubSettings>('/api/settings/hub', body))
      setToken('')
      toast(done)
    } catch (err) {
      toastError(err, 'Could not save the Hub settings')
    } finally {
      setBusy(false)
    }
  }
  return (
    <Card title="Hugging Face" id="hub-settings">
      {set && (
        <div class="stack">
          <div class="kv">
            <span class="muted">Access token</span>
            <span>{set.token_set ? <Badge tone="good">set</Badge> : <Badge>not set</Badge>}</span>
            {set.endpoint && <><span class="muted">Endpoint</span><span class="mono small">{set.endpoint}</span></>}
          </div>
          <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void put({ token: token.trim() }, 'Token saved') }}>
            <input type="password" placeholder="hf_…" aria-label="Hugging Face token" autocomplete="off" value={token}
              onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
            <Button type="submit" busy={busy} disabled={!token.trim()}>Save token</Button>
            {set.token_set && <Button variant="ghost" onClick={() => put({ token: '' }, 'Token removed')}>Remove</Button>}
          </form>
          <p class="muted small">Needed for gated models. It is stored on this machine and never shown again; it applies at once.</p>
          <Switch checked={set.offline} disabled={busy} onChange={(v) => put({ offline: v }, v ? 'Offline mode on' : 'Offline mode off')}
            label="Offline mode: never contact the Hub (search and downloads are off)" />
        </div>
      )}
    </Card>
  )
}

export function SecurityCard() {
  const [set, setSet] = useState<AuthSettings | null>(null)
  const [ret, setRet] = useState<AuditRetention | null>(null)
  useEffect(() => {
    api.get<AuthSettings>('/api/settings/auth').then(setSet, () => {})
    api.get<AuditRetention>('/api/settings/audit').then(setRet, () => {})
  }, [])
  const toggle = async (v: boolean) => {
    try {
      setSet(await api.put<AuthSettings>('/api/settings/auth', { allow_unauthenticated_loopback: v }))
      toast(v ? 'Local programs may call /v1 without a key' : 'Every /v1 request needs a key')
    } catch (err) {
      toastError(err)
    }
  }
  const saveRetention = async (e: Event) => {
    e.preventDefault()
    if (!ret) return
    try {
      setRet(await api.put<AuditRetention>('/api/settings/audit', ret))
      toast('Audit retention saved')
    } catch (err) {
      toastError(err)
    }
  }
  return (
    <Card title="Security" id="security-settings">
      <div class="stack">
        {set && (
          <>
            <Switch checked={set.allow_unauthenticated_loopback} onChange={toggle}
              label="Allow programs on this machine to use the /v1 API without an API key" />
            <p class="muted small">Convenient for local tools; any program or user on this machine can then run models.</p>
          </>
        )}
        {ret && (
          <form class="inline-form" onSubmit={saveRetention}>
            <Field label="Keep audit events (days)">
              <input type="number" min="1" value={ret.retention_days} onInput={(e) => setRet({ ...ret, retention_days: Number((e.currentTarget as HTMLInputElement).value) })} />
            </Field>
            <Field label="At most (events)">
              <input type="number" min="1" value={ret.max_events} onInput={(e) => setRet({ ...ret, max_events: Number((e.currentTarget as HTMLInputElement).value) })} />
            </Field>
            <Button type="submit">Save retention</Button>
          </form>
        )}
      </div>
    </Card>
  )
}
