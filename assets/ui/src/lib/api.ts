// The daemon's JSON API: one fetch wrapper that adds the session token, turns the
// error envelope into ApiError and signs the user out when the session ends.

const tokenKey = 'mlx-manager.token'

let token: string | null = readToken()
let onSessionEnd: ((reason: string) => void) | null = null

function readToken(): string | null {
  try {
    return sessionStorage.getItem(tokenKey)
  } catch {
    return null // storage disabled: the token lives in memory only
  }
}

export function getToken(): string | null {
  return token
}

export function setToken(t: string | null): void {
  token = t
  try {
    if (t) sessionStorage.setItem(tokenKey, t)
    else sessionStorage.removeItem(tokenKey)
  } catch {
    // memory only
  }
}

// onUnauthorized registers what happens when a request with a token gets a 401:
// the session expired, was revoked, or the user was deleted.
export function onUnauthorized(fn: (reason: string) => void): void {
  onSessionEnd = fn
}

export class ApiError extends Error {
  status: number
  code: string
  param: string
  constructor(status: number, message: string, code = '', param = '') {
    super(message)
    this.status = status
    this.code = code
    this.param = param
  }
}

interface ErrorEnvelope {
  error?: { message?: string; code?: string | null; param?: string | null }
}

// errorFrom reads the API's error envelope, falling back to the status text.
export async function errorFrom(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`
  let code = ''
  let param = ''
  try {
    const body = (await res.json()) as ErrorEnvelope
    if (body.error?.message) message = body.error.message
    code = body.error?.code ?? ''
    param = body.error?.param ?? ''
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, message, code, param)
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra
}

// failure reads a failed response's error and signs out on a 401 to a request
// that carried the current token (sent).
export async function failure(res: Response, sent: string | null): Promise<ApiError> {
  const err = await errorFrom(res)
  if (res.status === 401 && sent && sent === token && onSessionEnd) {
    onSessionEnd(err.message)
  }
  return err
}

// request sends a JSON request and decodes the JSON answer (undefined for 204).
export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const sent = token
  const headers = authHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' })
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })
  if (!res.ok) throw await failure(res, sent)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T = void>(path: string) => request<T>('DELETE', path),
}

// download fetches an authenticated file (an export) and hands it to the browser.
export async function download(path: string, filename: string): Promise<void> {
  const sent = token
  const res = await fetch(path, { headers: authHeaders() })
  if (!res.ok) throw await failure(res, sent)
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

// withToken adds ?token= for EventSource and WebSocket, which cannot send headers.
export function withToken(path: string): string {
  const sep = path.includes('?') ? '&' : '?'
  return token ? `${path}${sep}token=${encodeURIComponent(token)}` : path
}

// errorMessage is what a failed call says to the user.
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message
  if (err instanceof Error) return err.message
  return String(err)
}
