import { useState } from 'preact/hooks'
import { Icon } from '../components/icons'
import { Button, Field } from '../components/ui'
import { ApiError, errorMessage } from '../lib/api'
import { register, signIn } from '../lib/session'

type Mode = 'signin' | 'register'

export function LoginPage({ notice }: { notice: string }) {
  // An admin's invite link opens the sign-up form with its one-time token.
  const [invite] = useState(() => new URLSearchParams(location.search).get('invite') ?? '')
  const [mode, setMode] = useState<Mode>(invite ? 'register' : 'signin')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [info, setInfo] = useState('')

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    setInfo('')
    try {
      if (mode === 'register') {
        const u = await register(email, password, invite || undefined)
        if (u.status !== 'approved') {
          setInfo('Your account was created and is waiting for an administrator to approve it. You can sign in once it is approved.')
          setMode('signin')
          setPassword('')
          return
        }
      }
      await signIn(email, password)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'account_pending') {
        setInfo('Your account is waiting for an administrator to approve it. Try again once it is approved.')
      } else {
        setError(errorMessage(err))
      }
    } finally {
      setBusy(false)
    }
  }

  const switchTo = (m: Mode) => {
    setMode(m)
    setError('')
  }

  return (
    <div class="login">
      <div class="login-card">
        <div class="login-brand">
          <span class="brand-mark big"><Icon name="chip" size={28} /></span>
          <h1>MLX Manager</h1>
          <p class="muted">Run, manage and chat with local language models.</p>
        </div>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'signin'} class={mode === 'signin' ? 'active' : ''}
            onClick={() => switchTo('signin')}>Sign in</button>
          <button type="button" role="tab" aria-selected={mode === 'register'} class={mode === 'register' ? 'active' : ''}
            onClick={() => switchTo('register')}>Create account</button>
        </div>
        {notice && !info && <div class="alert alert-warn">{notice}</div>}
        {invite && mode === 'register' && !info && <div class="alert alert-info" data-testid="invite-notice">You were invited: your account is approved as soon as you create it.</div>}
        {info && <div class="alert alert-info" data-testid="login-info">{info}</div>}
        <form onSubmit={submit} class="stack">
          <Field label="Email">
            <input type="email" name="email" autocomplete="username" required value={email}
              onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <Field label="Password" hint={mode === 'register' ? '8 to 128 characters.' : undefined}>
            <input type="password" name="password" required minLength={mode === 'register' ? 8 : undefined}
              autocomplete={mode === 'register' ? 'new-password' : 'current-password'} value={password}
              onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          {error && <div class="alert alert-bad" role="alert">{error}</div>}
          <Button type="submit" variant="primary" busy={busy} class="wide">
            {mode === 'signin' ? 'Sign in' : 'Create account'}
          </Button>
        </form>
        <p class="muted small login-foot">
          {mode === 'register'
            ? 'The first account becomes the administrator. Later accounts wait for an administrator’s approval.'
            : 'New here? Create an account; an administrator approves it.'}
        </p>
      </div>
    </div>
  )
}
