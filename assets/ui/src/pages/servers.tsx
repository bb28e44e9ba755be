import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Icon } from '../components/icons'
import { Badge, Button, Card, Empty, PageHeader, Progress, Stat } from '../components/ui'
import { api } from '../lib/api'
import { ago, batchText, bytes, duration, percent, prefixText, ttl } from '../lib/format'
import { live, refreshServers } from '../lib/live'
import { navigate } from '../lib/router'
import { useStore } from '../lib/store'
import type { LocalModel, Memory, ModelEvent, Profile, ServerView } from '../lib/types'

export function ServersPage() {
  const { servers, memory, lastEvent } = useStore(live)
  const [models, setModels] = useState<LocalModel[]>([])
  const [profiles, setProfiles] = useState<Profile[]>([])
  const [events, setEvents] = useState<ModelEvent[]>([])
  const [now, setNow] = useState(Date.now())

  useEffect(() => {
    api.get<LocalModel[]>('/api/models/local').then(setModels, () => {})
    api.get<Profile[]>('/api/profiles').then(setProfiles, () => {})
    refreshServers(0)
    // Uptime ticks here; in-flight counts and speeds come from a light poll.
    const tick = setInterval(() => setNow(Date.now()), 1000)
    const poll = setInterval(() => refreshServers(0), 3000)
    return () => {
      clearInterval(tick)
      clearInterval(poll)
    }
  }, [])
  useEffect(() => {
    if (lastEvent) setEvents((e) => [lastEvent, ...e].slice(0, 8))
  }, [lastEvent])

  const loaded = new Set(servers.map((s) => s.model))
  const candidates = models.filter((m) => m.supported && !loaded.has(m.id))

  return (
    <div class="page">
      <PageHeader title="Servers" subtitle="Models loaded in memory, ready to answer requests" />
      {memory && <MemoryCard memory={memory} />}
      <LoadBar candidates={candidates} />
      {servers.length === 0
        ? <Card><Empty icon="servers" title="No model is loaded">Load one here, start a profile, or just send a request: models load on demand.</Empty></Card>
        : <div class="tiles">{servers.map((s) => <ServerTile key={s.model} s={s} memory={memory} now={now} />)}</div>}
      <div class="grid-2">
        <ProfilesCard profiles={profiles} servers={servers} />
        <Card title="Recent activity">
          {events.length === 0 ? <p class="muted small">Loads and unloads appear here as they happen.</p> : (
            <ul class="events">
              {events.map((e, i) => (
                <li key={i}>
                  <Badge tone={e.kind === 'ready' ? 'good' : e.kind === 'error' ? 'bad' : e.kind === 'evicted' ? 'warn' : 'info'}>{e.kind}</Badge>
                  <span class="mono">{e.model}</span>
                  {e.reason && <span class="muted small">({e.reason})</span>}
                  {e.error && <span class="error-text small">{e.error}</span>}
                  <span class="spacer" />
                  <span class="muted small">{ago(e.time, now)}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  )
}

function MemoryCard({ memory: m }: { memory: Memory }) {
  const used = percent(m.used_bytes, m.budget_bytes)
  return (
    <Card class="memory-card">
      <div class="stats">
        <Stat label="Memory in use" value={bytes(m.used_bytes)} hint={m.budget_bytes ? `of ${bytes(m.budget_bytes)} budget` : 'no budget set'} />
        <Stat label="Available" value={m.budget_bytes ? bytes(m.available_bytes) : '—'} hint={m.total_ram_bytes ? `${bytes(m.total_ram_bytes)} RAM in this machine` : undefined} />
        <Stat label="Models loaded" value={m.models} hint={m.max_models ? `at most ${m.max_models}` : 'no limit'} />
      </div>
      {m.budget_bytes > 0 && <Progress value={used} tone={used > 90 ? 'bad' : used > 75 ? 'warn' : 'accent'} label="Memory used of the budget" />}
    </Card>
  )
}

function LoadBar({ candidates }: { candidates: LocalModel[] }) {
  const [pick, setPick] = useState('')
  const [busy, setBusy] = useState(false)
  const model = pick || candidates[0]?.id || ''
  const load = async () => {
    setBusy(true)
    try {
      await api.post('/api/servers/start', { model })
      toast(`${model} is loaded`)
      setPick('')
    } catch (err) {
      toastError(err, `Could not load ${model}`)
    } finally {
      setBusy(false)
      refreshServers(0)
    }
  }
  if (candidates.length === 0) return null
  return (
    <div class="load-bar">
      <select aria-label="Model to load" value={model} onChange={(e) => setPick((e.currentTarget as HTMLSelectElement).value)}>
        {candidates.map((m) => <option key={m.id} value={m.id}>{m.id} ({bytes(m.size_bytes)})</option>)}
      </select>
      <Button variant="primary" icon="play" busy={busy} onClick={load}>Load model</Button>
    </div>
  )
}

function ServerTile({ s, memory, now }: { s: ServerView; memory: Memory | null; now: number }) {
  const [busy, setBusy] = useState('')
  // The browser's clock runs the tile; a moment of skew must not show a negative uptime.
  const uptime = s.loaded_at ? Math.max(0, (now - Date.parse(s.loaded_at)) / 1000) : s.uptime_seconds
  const share = memory?.budget_bytes ? percent(s.memory_bytes, memory.budget_bytes) : 0
  const act = async (what: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(what)
    try {
      await fn()
      toast(done)
    } catch (err) {
      toastError(err, `Could not ${what} ${s.model}`)
    } finally {
      setBusy('')
      refreshServers(0)
    }
  }
  // A model with requests running is unloaded only once they finish (the daemon
  // refuses to cut them off): say so and let the user agree to wait.
  const unload = async () => {
    const running = s.in_flight + (s.queued ?? 0)
    if (running > 0 && !(await confirmAction(`Unload ${s.model}?`,
      <p>{running} {running === 1 ? 'request is' : 'requests are'} running on it. It unloads when {running === 1 ? 'it finishes' : 'they finish'}; new requests are still served meanwhile.</p>,
      'Unload when idle'))) return
    await act('unload', () => api.post('/api/servers/stop', { model: s.model, wait: running > 0 }), `${s.model} unloaded`)
  }
  const path = s.model.split('/').map(encodeURIComponent).join('/')
  const expires = s.expires_at ? (Date.parse(s.expires_at) - now) / 1000 : null
  return (
    <article class={`tile tile-${s.state}`} data-testid="server-tile" data-model={s.model} data-state={s.state}>
      <div class="tile-head">
        <span class="mono strong tile-title" title={s.model}>{s.model}</span>
        <Badge tone={s.state === 'ready' ? 'good' : s.state === 'unloading' ? 'warn' : 'info'}>{s.state}</Badge>
        {s.pinned && <Badge tone="accent"><Icon name="pin" size={12} /> pinned</Badge>}
      </div>
      <div class="tile-mem">
        <div class="small"><strong>{bytes(s.memory_bytes)}</strong> <span class="muted">{memory?.budget_bytes ? `${share.toFixed(1)}% of budget` : ''}</span></div>
        <Progress value={share} small label={`Memory of ${s.model}`} />
      </div>
      <dl class="tile-facts">
        <div><dt>Uptime</dt><dd>{s.loaded_at ? duration(uptime) : '—'}</dd></div>
        <div><dt>In flight</dt><dd>{s.in_flight}{s.queued ? ` (+${s.queued} queued)` : ''}</dd></div>
        <div><dt>Last speed</dt><dd>{s.last_request ? `${s.last_request.tokens_per_second.toFixed(1)} tok/s` : '—'}</dd></div>
        {s.serving && <div><dt>Batch</dt><dd data-testid="server-batch">{batchText(s.serving)}</dd></div>}
        {s.serving && <div><dt>Prefix cache</dt><dd>{prefixText(s.serving)}</dd></div>}
        <div><dt>Unloads</dt><dd>{s.pinned ? 'never (pinned)' : expires != null && expires > 0 ? `in ${duration(expires)}` : s.in_flight ? 'when idle' : ttl(s.ttl_seconds)}</dd></div>
      </dl>
      {s.profiles.length > 0 && <div class="muted small">Profiles: {s.profiles.join(', ')}</div>}
      <div class="tile-actions">
        <Button size="sm" icon="chat" variant="ghost" onClick={() => navigate(`/chat?model=${encodeURIComponent(s.model)}`)}>Chat</Button>
        <span class="spacer" />
        {s.pinned
          ? <Button size="sm" icon="pin" busy={busy === 'unpin'} onClick={() => act('unpin', () => api.post(`/api/servers/${path}/unpin`), `${s.model} unpinned`)}>Unpin</Button>
          : <Button size="sm" icon="pin" busy={busy === 'pin'} disabled={s.state !== 'ready'} onClick={() => act('pin', () => api.post(`/api/servers/${path}/pin`), `${s.model} pinned`)}>Pin</Button>}
        <Button size="sm" icon="power" variant="danger" busy={busy === 'unload'} disabled={s.state !== 'ready'}
          onClick={() => void unload()}>Unload</Button>
      </div>
    </article>
  )
}

function ProfilesCard({ profiles, servers }: { profiles: Profile[]; servers: ServerView[] }) {
  const [busy, setBusy] = useState('')
  const ready = new Set(servers.filter((s) => s.state === 'ready').map((s) => s.model))
  const act = async (p: Profile, action: 'start' | 'stop') => {
    setBusy(p.id)
    try {
      await api.post(`/api/servers/${action}`, { profile_id: p.id })
      toast(action === 'start' ? `Started ${p.name}` : `Stopped ${p.name}`)
    } catch (err) {
      toastError(err, `Could not ${action} ${p.name}`)
    } finally {
      setBusy('')
      refreshServers(0)
    }
  }
  return (
    <Card title="Profiles" actions={<Button size="sm" variant="ghost" onClick={() => navigate('/profiles')}>Manage</Button>}>
      {profiles.length === 0 ? <p class="muted small">No profiles yet. A profile is a model with its own defaults.</p> : (
        <ul class="plain-list">
          {profiles.map((p) => (
            <li key={p.id}>
              <div>
                <div class="strong">{p.name} {p.auto_start && <Badge tone="info">auto-start</Badge>}</div>
                <div class="muted small mono">{p.model}</div>
              </div>
              {ready.has(p.model)
                ? <Button size="sm" icon="power" busy={busy === p.id} onClick={() => act(p, 'stop')}>Stop</Button>
                : <Button size="sm" icon="play" busy={busy === p.id} onClick={() => act(p, 'start')}>Start</Button>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  )
}

