import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Button, Card, CopyField, Empty, Field, Modal, PageHeader } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { ago } from '../lib/format'
import { linkClick } from '../lib/router'
import { session } from '../lib/session'
import { useStore } from '../lib/store'
import type { APIKey } from '../lib/types'
import { HubCard, PoolCard, SecurityCard } from './settings-admin'
import { ImagesCard, LocalFoldersCard } from './settings-local'
import { BackendsCard } from './settings-backends'

export function SettingsPage() {
  const me = useStore(session).user!
  return (
    <div class="page">
      <PageHeader title="Settings" subtitle={me.is_admin ? 'Your API keys and how this machine runs models' : 'Your API keys'} />
      <KeysCard />
      <AboutCard />
      {me.is_admin && (
        <>
          <PoolCard />
          <div class="grid-2">
            <HubCard />
            <SecurityCard />
          </div>
          <div class="grid-2">
            <LocalFoldersCard />
            <ImagesCard />
          </div>
          <BackendsCard />
        </>
      )}
    </div>
  )
}

function KeysCard() {
  const [keys, setKeys] = useState<APIKey[] | null>(null)
  const [name, setName] = useState('')
  const [created, setCreated] = useState<APIKey | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const reload = () => api.get<APIKey[]>('/api/auth/api-keys').then(setKeys, (err) => setError(errorMessage(err)))
  useEffect(() => void reload(), [])

  const create = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      setCreated(await api.post<APIKey>('/api/auth/api-keys', { name: name.trim() }))
      setName('')
      void reload()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  const revoke = async (k: APIKey) => {
    if (!(await confirmAction(`Revoke ${k.name}?`, <p>Programs using this key stop working at once.</p>, 'Revoke key'))) return
    try {
      await api.del(`/api/auth/api-keys/${encodeURIComponent(k.id)}`)
      toast(`Revoked ${k.name}`)
      void reload()
    } catch (err) {
      toastError(err)
    }
  }

  return (
    <Card title="API keys" id="api-keys">
      <p class="muted small">Use a key as the bearer token of the OpenAI-compatible API at <span class="mono">{location.origin}/v1</span>.</p>
      <form class="inline-form" onSubmit={create}>
        <Field label="New key name">
          <input placeholder="e.g. laptop editor" value={name} maxLength={100} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Button type="submit" variant="primary" icon="key" busy={busy} disabled={!name.trim()}>Create key</Button>
      </form>
      {error && <div class="alert alert-bad">{error}</div>}
      {keys && keys.length === 0 && <Empty icon="key" title="No API keys" />}
      {keys && keys.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th class="right" /></tr></thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-testid="api-key" data-name={k.name}>
                  <td class="strong">{k.name}</td>
                  <td class="mono small">{k.prefix}…</td>
                  <td class="small">{ago(k.created_at)}</td>
                  <td class="small">{k.last_used_at ? ago(k.last_used_at) : 'never'}</td>
                  <td class="right"><Button size="sm" variant="ghost" icon="trash" onClick={() => revoke(k)}>Revoke</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {created?.key && (
        <Modal title="Your new API key" onClose={() => setCreated(null)} footer={<Button variant="primary" onClick={() => setCreated(null)}>Done</Button>}>
          <div class="stack">
            <p>Copy <strong>{created.name}</strong> now: it is shown only this once.</p>
            <CopyField value={created.key} label="API key" />
          </div>
        </Modal>
      )}
    </Card>
  )
}

interface Health {
  version: string
  kernels?: { set: string; simd_build: boolean; cpu: string; warning?: string }
}

// AboutCard shows the build and its inference kernels from /health, so that a
// binary built without its SIMD kernels (several times slower) is visible.
function AboutCard() {
  const [h, setH] = useState<Health | null>(null)
  useEffect(() => void api.get<Health>('/health').then(setH, () => setH(null)), [])
  if (!h) return null
  const k = h.kernels
  return (
    <Card title="About" id="about">
      <p class="small">
        MLX Manager <span class="mono">{h.version}</span>
        {k && (
          <>
            {' · kernels '}
            <span class="mono" data-testid="kernels">{k.set}</span>
            {k.simd_build ? ' (SIMD build)' : ' (built without GOEXPERIMENT=simd)'}
          </>
        )}
      </p>
      {k?.warning && <div class="alert alert-bad">{k.warning}</div>}
      <p class="small">
        <a href="/api-docs" onClick={linkClick}>API reference</a>: every route with its authentication and
        request and response fields, from the server's OpenAPI document (<a href="/api/openapi.json" target="_blank" rel="noopener">/api/openapi.json</a>).
      </p>
    </Card>
  )
}
