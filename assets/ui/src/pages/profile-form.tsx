import { useState } from 'preact/hooks'
import { toast } from '../components/feedback'
import { Button, Field, Modal, Switch } from '../components/ui'
import { api, ApiError, errorMessage } from '../lib/api'
import { session } from '../lib/session'
import { useStore } from '../lib/store'
import type { LocalModel, Profile } from '../lib/types'

type TTLMode = 'default' | 'forever' | 'each' | 'custom'

interface Draft {
  name: string
  model: string
  system_prompt: string
  temperature: string
  top_p: string
  max_tokens: string
  context_length: string
  ttlMode: TTLMode
  ttlMinutes: string
  auto_start: boolean
  tool_format: string
  parallel: string
}

function draftOf(p: Profile | null, models: LocalModel[]): Draft {
  const t = p?.ttl_seconds
  return {
    name: p?.name ?? '',
    model: p?.model ?? models[0]?.id ?? '',
    system_prompt: p?.system_prompt ?? '',
    temperature: p?.temperature?.toString() ?? '',
    top_p: p?.top_p?.toString() ?? '',
    max_tokens: p?.max_tokens?.toString() ?? '',
    context_length: p?.context_length ? String(p.context_length) : '',
    ttlMode: t == null ? 'default' : t < 0 ? 'forever' : t === 0 ? 'each' : 'custom',
    ttlMinutes: t && t > 0 ? String(Math.round(t / 60)) : '30',
    auto_start: p?.auto_start ?? false,
    tool_format: p?.tool_format ?? '',
    parallel: p?.parallel ? String(p.parallel) : '',
  }
}

const num = (s: string) => (s.trim() === '' ? null : Number(s))

function bodyOf(d: Draft) {
  const ttl = { default: null, forever: -1, each: 0, custom: Math.round(Number(d.ttlMinutes) * 60) }[d.ttlMode]
  return {
    name: d.name.trim(),
    model: d.model,
    system_prompt: d.system_prompt,
    temperature: num(d.temperature),
    top_p: num(d.top_p),
    max_tokens: num(d.max_tokens),
    context_length: num(d.context_length) ?? 0,
    ttl_seconds: ttl,
    auto_start: d.auto_start,
    tool_format: d.tool_format,
    parallel: num(d.parallel) ?? 0,
  }
}

// ProfileForm creates a profile, or edits one when given.
export function ProfileForm({ profile, models, onClose, onSaved }: {
  profile: Profile | null
  models: LocalModel[]
  onClose: () => void
  onSaved: () => void
}) {
  const [d, setD] = useState(() => draftOf(profile, models))
  const admin = useStore(session).user?.is_admin ?? false
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<{ param: string; message: string } | null>(null)
  const set = <K extends keyof Draft>(k: K) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement
    setD({ ...d, [k]: el.type === 'checkbox' ? el.checked : el.value })
  }
  const err = (param: string) => (error?.param === param ? error.message : undefined)

  const save = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (profile) await api.put(`/api/profiles/${encodeURIComponent(profile.id)}`, bodyOf(d))
      else await api.post('/api/profiles', bodyOf(d))
      toast(profile ? `Saved ${d.name}` : `Created ${d.name}`)
      onSaved()
    } catch (ex) {
      setError({ param: ex instanceof ApiError ? ex.param : '', message: errorMessage(ex) })
    } finally {
      setBusy(false)
    }
  }

  const known = models.some((m) => m.id === d.model)
  return (
    <Modal title={profile ? `Edit ${profile.name}` : 'New profile'} onClose={onClose} wide
      footer={<>
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" busy={busy} form="profile-form">{profile ? 'Save' : 'Create profile'}</Button>
      </>}>
      <form id="profile-form" class="form-grid" onSubmit={save}>
        <Field label="Name" error={err('name')} hint="Requests may name the profile instead of a model.">
          <input name="name" required value={d.name} onInput={set('name')} />
        </Field>
        <Field label="Model" error={err('model')}>
          <select name="model" value={d.model} onChange={set('model')}>
            {!known && d.model && <option value={d.model}>{d.model} (not on disk)</option>}
            {models.map((m) => <option key={m.id} value={m.id}>{m.id}</option>)}
          </select>
        </Field>
        <Field label="System prompt" error={err('system_prompt')} hint="Sent first in every chat that uses this profile.">
          <textarea name="system_prompt" rows={4} value={d.system_prompt} onInput={set('system_prompt')} />
        </Field>
        <div class="form-row">
          <Field label="Temperature" error={err('temperature')} hint="0–2; empty: the model’s">
            <input name="temperature" type="number" min="0" max="2" step="0.05" value={d.temperature} onInput={set('temperature')} />
          </Field>
          <Field label="Top p" error={err('top_p')} hint="0–1; empty: the model’s">
            <input name="top_p" type="number" min="0.01" max="1" step="0.01" value={d.top_p} onInput={set('top_p')} />
          </Field>
          <Field label="Max tokens" error={err('max_tokens')} hint="Per answer">
            <input name="max_tokens" type="number" min="1" step="1" value={d.max_tokens} onInput={set('max_tokens')} />
          </Field>
          <Field label="Context length" error={err('context_length')} hint="Empty: the model’s">
            <input name="context_length" type="number" min="128" step="128" value={d.context_length} onInput={set('context_length')} />
          </Field>
        </div>
        <div class="form-row">
          <Field label="Keep loaded" error={err('ttl_seconds')}>
            <select name="ttl" value={d.ttlMode} onChange={set('ttlMode')}>
              <option value="default">Pool default</option>
              <option value="custom">For a while after the last request</option>
              <option value="forever">Forever</option>
              <option value="each">Unload after each request</option>
            </select>
          </Field>
          {d.ttlMode === 'custom' && (
            <Field label="Minutes idle">
              <input name="ttl_minutes" type="number" min="1" step="1" value={d.ttlMinutes} onInput={set('ttlMinutes')} />
            </Field>
          )}
          <Field label="Tool-call format" error={err('tool_format')} hint="How the model writes tool calls">
            <select name="tool_format" value={d.tool_format} onChange={set('tool_format')}>
              <option value="">From the model’s template</option>
              <option value="hermes">Hermes / Qwen (&lt;tool_call&gt;)</option>
              <option value="llama3">Llama 3.x (JSON)</option>
              <option value="mistral">Mistral ([TOOL_CALLS])</option>
              <option value="qwen3-coder">Qwen3-Coder (XML)</option>
              <option value="none">None</option>
            </select>
          </Field>
          {admin && (
            <Field label="Parallel requests" error={err('parallel')} hint="Requests its model decodes together (1–64); empty: the pool setting">
              <input name="parallel" type="number" min="1" max="64" step="1" value={d.parallel} onInput={set('parallel')} />
            </Field>
          )}
        </div>
        <Switch checked={d.auto_start} onChange={(v) => setD({ ...d, auto_start: v })} label="Start automatically when the daemon starts" />
        {error && !['name', 'model', 'system_prompt', 'temperature', 'top_p', 'max_tokens', 'context_length', 'ttl_seconds', 'tool_format', 'parallel'].includes(error.param) && (
          <div class="alert alert-bad">{error.message}</div>
        )}
      </form>
    </Modal>
  )
}
