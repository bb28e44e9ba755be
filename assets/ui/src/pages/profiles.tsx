import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Badge, Button, Card, Empty, PageHeader, Spinner } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { ttl } from '../lib/format'
import { live } from '../lib/live'
import { navigate } from '../lib/router'
import { useStore } from '../lib/store'
import type { LocalModel, Profile } from '../lib/types'
import { ProfileForm } from './profile-form'

export function ProfilesPage() {
  const { servers } = useStore(live)
  const [profiles, setProfiles] = useState<Profile[] | null>(null)
  const [models, setModels] = useState<LocalModel[]>([])
  const [editing, setEditing] = useState<Profile | 'new' | null>(null)
  const [error, setError] = useState('')

  const reload = async () => {
    try {
      setProfiles(await api.get<Profile[]>('/api/profiles'))
    } catch (err) {
      setError(errorMessage(err))
    }
  }
  useEffect(() => {
    void reload()
    api.get<LocalModel[]>('/api/models/local').then((m) => setModels(m.filter((x) => x.supported)), () => {})
  }, [])

  const duplicate = async (p: Profile) => {
    try {
      const c = await api.post<Profile>(`/api/profiles/${encodeURIComponent(p.id)}/duplicate`)
      toast(`Created ${c.name}`)
      void reload()
    } catch (err) {
      toastError(err, `Could not duplicate ${p.name}`)
    }
  }
  const remove = async (p: Profile) => {
    if (!(await confirmAction(`Delete ${p.name}?`, <p>The profile is removed; its model stays on disk.</p>, 'Delete'))) return
    try {
      await api.del(`/api/profiles/${encodeURIComponent(p.id)}`)
      toast(`Deleted ${p.name}`)
      void reload()
    } catch (err) {
      toastError(err, `Could not delete ${p.name}`)
    }
  }
  const ready = new Set(servers.filter((s) => s.state === 'ready').map((s) => s.model))

  return (
    <div class="page">
      <PageHeader title="Profiles" subtitle="A model with its own system prompt, sampling defaults and lifetime">
        <Button variant="primary" icon="plus" onClick={() => setEditing('new')} disabled={models.length === 0}
          title={models.length === 0 ? 'Download a model first' : undefined}>New profile</Button>
      </PageHeader>
      <Card>
        {error && <div class="alert alert-bad">{error}</div>}
        {!profiles && !error && <div class="center"><Spinner label="Loading profiles" /></div>}
        {profiles && profiles.length === 0 && (
          <Empty icon="profiles" title="No profiles yet">Create one to give a model a system prompt and defaults, then use its name as the model in any request.</Empty>
        )}
        {profiles && profiles.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>Name</th><th>Model</th><th>Sampling</th><th class="nowrap">Keep loaded</th><th>Status</th><th class="right">Actions</th></tr></thead>
              <tbody>
                {profiles.map((p) => (
                  <tr key={p.id} data-testid="profile" data-name={p.name}>
                    <td>
                      <div class="strong">{p.name}</div>
                      {p.system_prompt && <div class="muted small clamp" title={p.system_prompt}>{p.system_prompt}</div>}
                    </td>
                    <td class="mono small">{p.model}</td>
                    <td class="small">
                      {[p.temperature != null && `temp ${p.temperature}`, p.top_p != null && `top-p ${p.top_p}`,
                        p.max_tokens != null && `${p.max_tokens} tokens`, p.context_length && `ctx ${p.context_length}`]
                        .filter(Boolean).join(' · ') || <span class="muted">model defaults</span>}
                    </td>
                    <td class="small">{ttl(p.ttl_seconds)}</td>
                    <td>
                      {ready.has(p.model) ? <Badge tone="good">running</Badge> : <Badge>stopped</Badge>}
                      {p.auto_start && <Badge tone="info">auto-start</Badge>}
                    </td>
                    <td class="right nowrap">
                      <Button size="sm" variant="ghost" icon="chat" onClick={() => navigate(`/chat?model=${encodeURIComponent(p.name)}`)}>Chat</Button>
                      <Button size="sm" variant="ghost" icon="edit" onClick={() => setEditing(p)}>Edit</Button>
                      <Button size="sm" variant="ghost" icon="copy" onClick={() => duplicate(p)}>Duplicate</Button>
                      <Button size="sm" variant="ghost" icon="trash" onClick={() => remove(p)} aria-label={`Delete ${p.name}`} title="Delete" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {editing && (
        <ProfileForm profile={editing === 'new' ? null : editing} models={models} onClose={() => setEditing(null)}
          onSaved={() => { setEditing(null); void reload() }} />
      )}
    </div>
  )
}
