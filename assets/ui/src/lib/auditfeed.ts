import { api, withToken } from './api'
import { session } from './session'
import type { AuditEvent } from './types'

interface Message {
  type: 'snapshot' | 'event'
  events?: AuditEvent[]
  event?: AuditEvent
}

// followAudit watches the audit log over its WebSocket: a snapshot of recent events
// first, then each new one. It reconnects after a drop (the server also closes
// watchers that fall behind) and stops for good once the session is gone.
export function followAudit(onEvents: (events: AuditEvent[]) => void, onState: (open: boolean) => void): () => void {
  let ws: WebSocket | null = null
  let closed = false
  let retry = 0
  let timer: number | undefined

  const open = () => {
    if (closed || !session.get().user) return
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    ws = new WebSocket(`${scheme}//${location.host}${withToken('/api/system/ws/audit-logs')}`)
    ws.onopen = () => {
      retry = 0
      onState(true)
    }
    ws.onmessage = (ev) => {
      try {
        const m = JSON.parse(ev.data as string) as Message
        if (m.type === 'snapshot') onEvents(m.events ?? [])
        else if (m.event) onEvents([m.event])
      } catch (err) {
        console.error('bad audit message', err)
      }
    }
    ws.onclose = () => {
      ws = null
      onState(false)
      if (closed) return
      // A refused handshake looks like any other close: a 401 on this check signs out.
      const again = () => {
        retry = Math.min(retry + 1, 6)
        timer = window.setTimeout(open, 500 * 2 ** retry)
      }
      api.get('/api/auth/me').then(again, again)
    }
  }
  open()
  return () => {
    closed = true
    clearTimeout(timer)
    ws?.close()
  }
}
