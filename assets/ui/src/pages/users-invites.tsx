import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Badge, Button, Card, CopyField, Field } from '../components/ui'
import { api } from '../lib/api'
import { ago, dateTime } from '../lib/format'
import type { AuthSettings, Invite, RegistrationMode } from '../lib/types'

const modes: { value: RegistrationMode; label: string; hint: string }[] = [
  { value: 'open', label: 'Open', hint: 'Anyone who can reach this server may ask for an account; an admin approves it.' },
  { value: 'invite', label: 'By invitation', hint: 'Only people with an invite link can create an account, approved at once.' },
  { value: 'closed', label: 'Closed', hint: 'No new accounts, not even with an invite.' },
]

// RegistrationCard sets who may create an account and hands out one-time invite links.
export function RegistrationCard() {
  const [set, setSet] = useState<AuthSettings | null>(null)
  const [invites, setInvites] = useState<Invite[]>([])
  const [note, setNote] = useState('')
  const [hours, setHours] = useState(72)
  const [created, setCreated] = useState<Invite | null>(null)
  const [busy, setBusy] = useState(false)

  const reload = async () => {
    try {
      setInvites(await api.get<Invite[]>('/api/auth/invites'))
    } catch (err) {
      toastError(err, 'Could not list invites')
    }
  }
  useEffect(() => {
    api.get<AuthSettings>('/api/settings/auth').then(setSet, () => {})
    void reload()
  }, [])

  const setMode = async (m: RegistrationMode) => {
    try {
      setSet(await api.put<AuthSettings>('/api/settings/auth', { registration: m }))
      toast(`Registration: ${modes.find((x) => x.value === m)?.label}`)
    } catch (err) {
      toastError(err)
    }
  }
  const create = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    try {
      setCreated(await api.post<Invite>('/api/auth/invites', { note, expires_in_hours: hours }))
      setNote('')
      void reload()
    } catch (err) {
      toastError(err, 'Could not create the invite')
    } finally {
      setBusy(false)
    }
  }
  const revoke = async (inv: Invite) => {
    if (!(await confirmAction('Revoke this invite?', <p>The link stops working at once.</p>, 'Revoke'))) return
    try {
      await api.del(`/api/auth/invites/${encodeURIComponent(inv.id)}`)
      toast('Invite revoked')
    } catch (err) {
      toastError(err)
    }
    void reload()
  }
  const mode = set?.registration || 'open'

  return (
    <Card title="Registration" id="registration">
      <div class="stack">
        {set && (
          <Field label="Who may create an account" hint={modes.find((m) => m.value === mode)?.hint}>
            <select data-testid="registration-mode" value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as RegistrationMode)}>
              {modes.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
            </select>
          </Field>
        )}
        <form class="inline-form" onSubmit={create}>
          <Field label="Invite note (optional)">
            <input value={note} maxLength={200} placeholder="for whom" onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <Field label="Valid for (hours)">
            <input type="number" min="1" max="720" value={hours} onInput={(e) => setHours(Number((e.currentTarget as HTMLInputElement).value))} />
          </Field>
          <Button type="submit" variant="primary" icon="plus" busy={busy}>Create invite link</Button>
        </form>
        {created?.url && (
          <div class="stack" data-testid="invite-created">
            <p>Send this link to the person you invite. It works once and is shown only now.</p>
            <CopyField value={created.url} label="Invite link" />
          </div>
        )}
        {invites.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>Note</th><th>State</th><th>Created</th><th>Expires</th><th class="right">Actions</th></tr></thead>
              <tbody>
                {invites.map((inv) => (
                  <tr key={inv.id} data-testid="invite-row" data-state={inv.state}>
                    <td>{inv.note || <span class="muted">—</span>}</td>
                    <td><Badge tone={inv.state === 'active' ? 'good' : inv.state === 'used' ? 'accent' : 'warn'}>{inv.state}</Badge></td>
                    <td class="small nowrap" title={dateTime(inv.created_at)}>{ago(inv.created_at)}</td>
                    <td class="small nowrap">{dateTime(inv.expires_at)}</td>
                    <td class="right">{inv.state !== 'used' && <Button size="sm" variant="ghost" icon="trash" aria-label="Revoke invite" title="Revoke" onClick={() => revoke(inv)} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Card>
  )
}
