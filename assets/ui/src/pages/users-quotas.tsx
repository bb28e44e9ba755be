import { useEffect, useState } from 'preact/hooks'
import { toast, toastError } from '../components/feedback'
import { Button, Card, Field } from '../components/ui'
import { api } from '../lib/api'
import type { AuthSettings } from '../lib/types'

type QuotaKey =
  | 'quota_user_concurrent' | 'quota_user_per_minute' | 'quota_user_tokens_per_day'
  | 'quota_key_concurrent' | 'quota_key_per_minute' | 'quota_key_tokens_per_day'

const rows: { who: string; fields: { key: QuotaKey; label: string }[] }[] = [
  { who: 'Per user (all their sessions and keys together)', fields: [
    { key: 'quota_user_concurrent', label: 'Concurrent requests' },
    { key: 'quota_user_per_minute', label: 'Requests per minute' },
    { key: 'quota_user_tokens_per_day', label: 'Tokens per day (UTC)' },
  ] },
  { who: 'Per API key', fields: [
    { key: 'quota_key_concurrent', label: 'Concurrent requests' },
    { key: 'quota_key_per_minute', label: 'Requests per minute' },
    { key: 'quota_key_tokens_per_day', label: 'Tokens per day (UTC)' },
  ] },
]

// QuotasCard edits the /v1 quotas of the auth settings; 0 or empty is unlimited.
export function QuotasCard() {
  const [vals, setVals] = useState<Partial<Record<QuotaKey, number>> | null>(null)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    api.get<AuthSettings>('/api/settings/auth').then((s) => setVals(s as Partial<Record<QuotaKey, number>>), () => {})
  }, [])
  const save = async (e: Event) => {
    e.preventDefault()
    if (!vals) return
    setBusy(true)
    try {
      const patch: Record<string, number> = {}
      for (const r of rows) for (const f of r.fields) patch[f.key] = Math.max(0, Math.floor(vals[f.key] ?? 0))
      setVals(await api.put<AuthSettings>('/api/settings/auth', patch) as Partial<Record<QuotaKey, number>>)
      toast('Quotas saved')
    } catch (err) {
      toastError(err, 'Could not save the quotas')
    } finally {
      setBusy(false)
    }
  }
  if (!vals) return null
  return (
    <Card title="Quotas for the /v1 API" id="quotas">
      <form class="stack" onSubmit={save}>
        <p class="muted small">Over a quota, a request gets 429 with Retry-After. 0 means no limit.</p>
        {rows.map((r) => (
          <fieldset key={r.who} class="inline-form">
            <legend class="small strong">{r.who}</legend>
            {r.fields.map((f) => (
              <Field key={f.key} label={f.label}>
                <input type="number" min="0" name={f.key} value={vals[f.key] ?? 0}
                  onInput={(e) => setVals({ ...vals, [f.key]: Number((e.currentTarget as HTMLInputElement).value) })} />
              </Field>
            ))}
          </fieldset>
        ))}
        <div><Button type="submit" variant="primary" busy={busy}>Save quotas</Button></div>
      </form>
    </Card>
  )
}
