import { api } from './api'
import { session } from './session'
import { createStore } from './store'

// pending is the number of accounts waiting for approval, for the admin's badge.
export const pending = createStore(0)

let timer: number | undefined

export async function refreshPending(): Promise<void> {
  if (!session.get().user?.is_admin) return
  try {
    const r = await api.get<{ count: number }>('/api/auth/users/pending/count')
    pending.set(r.count)
  } catch {
    // keep the last count
  }
}

export function startPending(): void {
  stopPending()
  void refreshPending()
  timer = window.setInterval(refreshPending, 15_000)
}

export function stopPending(): void {
  clearInterval(timer)
  pending.set(0)
}
