import { api } from './api'
import { session } from './session'
import { createStore } from './store'

// pending is the number of accounts waiting for approval, for the admin's badge.
export const pending = createStore(0)


export async function refreshPending(): Promise<void> {
  if (!session.get().user?.is_admin) return
  try {
    const r = await api.get<{ count: number }>('/api/auth/users/pending/count')
    pending.set(r.count)
  } catch {
    // keep the last count
  }
}

// usersVersion changes whenever an account changes, for pages that list them.
export const usersVersion = createStore(0)

// The count is read once at sign-in; after that the /api/servers/events stream
// brings each change (live.ts calls usersChanged), so nothing polls.
export function startPending(): void {
  void refreshPending()
}

export function stopPending(): void {
  pending.set(0)
}

// usersChanged applies a "users" event: the new pending count, and a nudge to
// pages that list accounts.
export function usersChanged(count: number): void {
  pending.set(count)
  usersVersion.set((v) => v + 1)
}
