import { useEffect, useState } from 'preact/hooks'
import { confirmAction, toast, toastError } from '../components/feedback'
import { Badge, Button, Card, CopyField, Empty, Field, Modal, PageHeader, Spinner } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { ago, dateTime } from '../lib/format'
import { refreshPending, usersVersion } from '../lib/pending'
import { session } from '../lib/session'
import { useStore } from '../lib/store'
import type { User } from '../lib/types'
import { RegistrationCard } from './users-invites'
import { QuotasCard } from './users-quotas'

const order = { pending: 0, approved: 1, disabled: 2 }

export function UsersPage() {
  const me = useStore(session).user!
  const [users, setUsers] = useState<User[] | null>(null)
  const [error, setError] = useState('')
  const [resetting, setResetting] = useState<User | null>(null)

  const reload = async () => {
    try {
      const list = await api.get<User[]>('/api/auth/users')
      list.sort((a, b) => order[a.status] - order[b.status] || Date.parse(b.created_at) - Date.parse(a.created_at))
      setUsers(list)
      setError('')
    } catch (err) {
      setError(errorMessage(err))
    }
    void refreshPending()
  }
  // The event stream bumps usersVersion on every account change.
  const version = useStore(usersVersion)
  useEffect(() => {
    void reload()
  }, [version])

  const update = async (u: User, patch: Partial<Pick<User, 'status' | 'is_admin'>>, done: string) => {
    try {
      await api.put(`/api/auth/users/${encodeURIComponent(u.id)}`, patch)
      toast(done)
    } catch (err) {
      toastError(err, `Could not update ${u.email}`)
    }
    void reload()
  }
  const remove = async (u: User) => {
    if (!(await confirmAction(`Delete ${u.email}?`, <p>The account and its API keys are removed. Its audit history stays.</p>, 'Delete account'))) return
    try {
      await api.del(`/api/auth/users/${encodeURIComponent(u.id)}`)
      toast(`Deleted ${u.email}`)
    } catch (err) {
      toastError(err, `Could not delete ${u.email}`)
    }
    void reload()
  }
  const waiting = users?.filter((u) => u.status === 'pending').length ?? 0

  return (
    <div class="page">
      <PageHeader title="Users" subtitle={waiting ? `${waiting} waiting for approval` : 'Who may use this machine’s models'} />
      <Card>
        {error && <div class="alert alert-bad">{error}</div>}
        {!users && !error && <div class="center"><Spinner label="Loading users" /></div>}
        {users && users.length === 0 && <Empty icon="users" title="No users" />}
        {users && users.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>Email</th><th>Role</th><th>Status</th><th>Created</th><th class="nowrap">Last sign-in</th><th class="right">Actions</th></tr></thead>
              <tbody>
                {users.map((u) => {
                  const self = u.id === me.id
                  return (
                    <tr key={u.id} data-testid="user-row" data-email={u.email} data-status={u.status} class={u.status === 'pending' ? 'row-attention' : ''}>
                      <td><span class="strong">{u.email}</span>{self && <span class="muted small"> (you)</span>}</td>
                      <td>{u.is_admin ? <Badge tone="accent">admin</Badge> : <Badge>user</Badge>}</td>
                      <td><Badge tone={u.status === 'approved' ? 'good' : u.status === 'pending' ? 'warn' : 'bad'}>{u.status}</Badge></td>
                      <td class="small nowrap" title={dateTime(u.created_at)}>{ago(u.created_at)}</td>
                      <td class="small nowrap" title={u.last_login_at ? dateTime(u.last_login_at) : undefined}>{u.last_login_at ? ago(u.last_login_at) : 'never'}</td>
                      <td class="right nowrap">
                        {u.status === 'pending' && <Button size="sm" variant="primary" icon="check" onClick={() => update(u, { status: 'approved' }, `Approved ${u.email}`)}>Approve</Button>}
                        {u.status === 'approved' && !self && <Button size="sm" variant="ghost" onClick={() => update(u, { status: 'disabled' }, `Disabled ${u.email}`)}>Disable</Button>}
                        {u.status === 'disabled' && <Button size="sm" variant="ghost" onClick={() => update(u, { status: 'approved' }, `Enabled ${u.email}`)}>Enable</Button>}
                        {!self && (u.is_admin
                          ? <Button size="sm" variant="ghost" onClick={() => update(u, { is_admin: false }, `${u.email} is no longer an admin`)}>Remove admin</Button>
                          : <Button size="sm" variant="ghost" onClick={() => update(u, { is_admin: true }, `${u.email} is now an admin`)}>Make admin</Button>)}
                        <Button size="sm" variant="ghost" icon="key" aria-label="Reset password" title="Reset password" onClick={() => setResetting(u)}>Password</Button>
                        {!self && <Button size="sm" variant="ghost" icon="trash" aria-label={`Delete ${u.email}`} title="Delete" onClick={() => remove(u)} />}
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <RegistrationCard />
      <QuotasCard />
      {resetting && <ResetPassword user={resetting} onClose={() => setResetting(null)} />}
    </div>
  )
}

function ResetPassword({ user, onClose }: { user: User; onClose: () => void }) {
  const [password, setPassword] = useState('')
  const [generated, setGenerated] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      const r = await api.post<{ password?: string }>(`/api/auth/users/${encodeURIComponent(user.id)}/reset-password`,
        password ? { password } : {})
      if (r.password) setGenerated(r.password)
      else {
        toast(`Password of ${user.email} changed`)
        onClose()
      }
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <Modal title={`Reset the password of ${user.email}`} onClose={onClose}
      footer={generated ? <Button variant="primary" onClick={onClose}>Done</Button> : <>
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="reset-form" busy={busy}>{password ? 'Set password' : 'Generate password'}</Button>
      </>}>
      {generated ? (
        <div class="stack">
          <p>The new password is shown only this once. Hand it to the user; their sessions have ended.</p>
          <CopyField value={generated} label="New password" />
        </div>
      ) : (
        <form id="reset-form" class="stack" onSubmit={submit}>
          <p class="muted">Leave the field empty to generate a strong password. Either way the user is signed out everywhere.</p>
          <Field label="New password" hint="8 to 128 characters, or empty">
            <input type="password" autocomplete="new-password" value={password} minLength={8}
              onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          {error && <div class="alert alert-bad">{error}</div>}
        </form>
      )}
    </Modal>
  )
}
