import { api, withToken } from './api'
import { session } from './session'

// follow opens an EventSource on an authenticated SSE route and keeps it open:
// EventSource retries dropped connections itself, but gives up for good on an
// error status, so then the session is checked (a 401 signs the user out) and the
// stream reopened after a growing pause. It returns a function that closes it.
export function follow(
  path: string,
  handlers: Record<string, (data: any) => void>,
  onState?: (open: boolean) => void,
  retryAfterFailure = true,
): () => void {
  let es: EventSource | null = null
  let closed = false
  let retry = 0
  let timer: number | undefined

  const open = () => {
    if (closed || !session.get().user) return
    es = new EventSource(withToken(path))
    es.onopen = () => {
      retry = 0
      onState?.(true)
    }
    es.onerror = () => {
      onState?.(false)
      if (es?.readyState !== EventSource.CLOSED) return // the browser retries
      es = null
      // A final failure: is the session still good? A 401 here signs out.
      const next = retryAfterFailure ? schedule : () => {}
      api.get('/api/auth/me').then(next, next)
    }
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        try {
          fn(JSON.parse((ev as MessageEvent).data))
        } catch (err) {
          console.error(`bad ${name} event on ${path}`, err)
        }
      })
    }
  }
  const schedule = () => {
    if (closed) return
    retry = Math.min(retry + 1, 6)
    timer = window.setTimeout(open, 500 * 2 ** retry)
  }
  open()
  return () => {
    closed = true
    clearTimeout(timer)
    es?.close()
    es = null
  }
}
