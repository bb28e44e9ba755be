import { api, ApiError, getToken, onUnauthorized, setToken } from './api'
import { createStore } from './store'
import type { TokenResponse, User } from './types'

// The signed-in user. `checking` while the stored token is being verified at start.
export interface Session {
  user: User | null
  checking: boolean
  notice: string // why the user was signed out, shown on the sign-in page
}

export const session = createStore<Session>({ user: null, checking: !!getToken(), notice: '' })

onUnauthorized((reason) => signOut(`You were signed out: ${reason}.`))

// restore verifies the token kept in sessionStorage, at start.
export async function restore(): Promise<void> {
  if (!getToken()) {
    session.set({ user: null, checking: false, notice: '' })
    return
  }
  try {
    const user = await api.get<User>('/api/auth/me')
    session.set({ user, checking: false, notice: '' })
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401 || err.status === 403) setToken(null)
    session.set((s) => ({ ...s, user: null, checking: false }))
  }
}

export async function signIn(email: string, password: string): Promise<User> {
  const t = await api.post<TokenResponse>('/api/auth/login', { email, password })
  setToken(t.access_token)
  try {
    const user = await api.get<User>('/api/auth/me')
    session.set({ user, checking: false, notice: '' })
    return user
  } catch (err) {
    setToken(null)
    throw err
  }
}

export function register(email: string, password: string, invite?: string): Promise<User> {
  return api.post<User>('/api/auth/register', invite ? { email, password, invite } : { email, password })
}

export function signOut(notice = ''): void {
  setToken(null)
  session.set({ user: null, checking: false, notice })
}

export function refreshMe(): void {
  api.get<User>('/api/auth/me').then(
    (user) => session.set((s) => ({ ...s, user })),
    () => {},
  )
}
