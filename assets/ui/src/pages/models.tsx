import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Badge, Button, Card, Empty, PageHeader, Spinner } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { loadDownloads, watchDownload } from '../lib/downloads'
import { bytes, params } from '../lib/format'
import { kindHint, kindOf } from '../lib/kind'
import { live, refreshServers } from '../lib/live'
import { navigate } from '../lib/router'
import { session } from '../lib/session'
import { useStore } from '../lib/store'
import { isFinal, type LocalModel, type ServerView } from '../lib/types'
import { HubSearch } from './models-hub'
import { Downloads } from './models-downloads'

export function ModelsPage() {
  const { downloads, servers } = useStore(live)
  const [models, setModels] = useState<LocalModel[] | null>(null)
  const [error, setError] = useState('')

  const reload = async () => {
    try {
      setModels(await api.get<LocalModel[]>('/api/models/local'))
      setError('')
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  useEffect(() => {
    void reload()
    loadDownloads().then(
      (list) => list.filter((d) => !isFinal(d.status)).forEach((d) => watchDownload(d.task_id)),
      () => {},
    )
  }, [])

  const list = useMemo(
    () => Object.values(downloads).sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)),
    [downloads],
  )
  // A finished download adds a local model.
  const completed = list.filter((d) => d.status === 'completed').map((d) => d.task_id).join()
  const seen = useRef(completed)
  useEffect(() => {
    if (completed !== seen.current) {
      seen.current = completed
      void reload()
    }
  }, [completed])

  const byModel = new Map(servers.map((s) => [s.model, s]))
  const total = (models ?? []).reduce((n, m) => n + m.size_bytes, 0)
  const localIds = new Set((models ?? []).map((m) => m.id))

  return (
    <div class="page">
      <PageHeader title="Models" subtitle={models ? `${models.length} on this machine, ${bytes(total)} on disk` : 'Models on this machine and on the Hub'}>
        <Button icon="refresh" onClick={reload}>Refresh</Button>
      </PageHeader>
      <Downloads list={list} />
      <Card title="On this machine" id="local-models">
        {error && <div class="alert alert-bad">{error}</div>}
        {!models && !error && <div class="center"><Spinner label="Loading models" /></div>}
        {models && models.length === 0 && (
          <Empty icon="models" title="No models yet">Search the Hub below and download one.</Empty>
        )}
        {models && models.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr><th>Model</th><th>Parameters</th><th>Quantization</th><th>Size</th><th>Context</th><th>Status</th><th class="right">Actions</th></tr>
              </thead>
              <tbody>
                {models.map((m) => <ModelRow key={m.id} m={m} server={byModel.get(m.id)} onDeleted={reload} />)}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <HubSearch downloads={list} localIds={localIds} />
    </div>
  )
}

function ModelRow({ m, server, onDeleted }: { m: LocalModel; server?: ServerView; onDeleted: () => void }) {
  const isAdmin = useStore(session).user?.is_admin ?? false
  const [busy, setBusy] = useState('')
  const state = server?.state
  const loaded = state === 'ready'
  const kind = kindOf(m)

  const run = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(what)
    try {
      await fn()
    } finally {
      setBusy('')
    }
  }
  const load = () => run('load', async () => {
    try {
      await api.post('/api/servers/start', { model: m.id })
      toast(`${m.id} is loaded`)
    } catch (err) {
      toastError(err, `Could not load ${m.id}`)
    }
    refreshServers(0)
  })
  const unload = () => run('unload', async () => {
    try {
      await api.post('/api/servers/stop', { model: m.id })
      toast(`${m.id} was unloaded`)
    } catch (err) {
      toastError(err, `Could not unload ${m.id}`)
    }
    refreshServers(0)
  })
  const remove = async () => {
    const local = !!m.registered // a registered folder: unregistered, never deleted
    const ok = local
      ? await confirmAction(`Unregister ${m.id}?`, <p>The folder {m.path} stays as it is{loaded ? '; the model unloads' : ''}. Chats can no longer name it.</p>, 'Unregister')
      : await confirmAction(`Delete ${m.id}?`,
      <p>This removes the model’s files ({bytes(m.size_bytes)}) from disk{loaded ? ' and unloads it' : ''}. You can download it again later.</p>,
      'Delete')
    if (!ok) return
    await run('delete', async () => {
      try {
        const r = await api.del<{ freed_bytes: number }>(`/api/models/${m.id.split('/').map(encodeURIComponent).join('/')}`)
        toast(local ? `Unregistered ${m.id}` : `Deleted ${m.id}, freed ${bytes(r?.freed_bytes ?? 0)}`)
        onDeleted()
      } catch (err) {
        toastError(err, `Could not delete ${m.id}`)
      }
    })
  }

  return (
    <tr data-testid="local-model" data-model={m.id}>
      <td>
        <div class="mono strong">{m.id}</div>
        <div class="muted small">
          {m.architecture ?? m.model_type ?? 'unknown architecture'}
          {kind !== 'chat' && <> <Badge tone="info" title={kindHint(kind)}>{kind}</Badge></>}
        </div>
      </td>
      <td>{params(m.parameters)}</td>
      <td>{m.quantization || '—'}</td>
      <td class="nowrap">{bytes(m.size_bytes)}</td>
      <td>{m.context_length ? m.context_length.toLocaleString() : '—'}</td>
      <td>
        {!m.supported ? <Badge tone="bad" title={m.unsupported_reason}>not supported</Badge>
          : state === 'ready' ? <Badge tone="good">loaded</Badge>
          : state ? <Badge tone="info">{state}</Badge>
          : <Badge>on disk</Badge>}
      </td>
      <td class="right nowrap">
        {m.supported && (loaded
          ? <Button size="sm" icon="power" busy={busy === 'unload'} onClick={unload}>Unload</Button>
          : <Button size="sm" icon="play" busy={busy === 'load' || state === 'loading' || state === 'pending'} onClick={load}>Load</Button>)}
        {m.supported && kind === 'chat' && <Button size="sm" variant="ghost" icon="chat" onClick={() => navigate(`/chat?model=${encodeURIComponent(m.id)}`)}>Chat</Button>}
        {isAdmin && <Button size="sm" variant="ghost" icon="trash" busy={busy === 'delete'} onClick={remove} aria-label={`Delete ${m.id}`} title="Delete" />}
      </td>
    </tr>
  )
}
