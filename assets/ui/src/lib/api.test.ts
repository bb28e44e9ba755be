import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, onUnauthorized, setToken, withToken } from './api'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

afterEach(() => {
  vi.unstubAllGlobals()
  setToken(null)
})

describe('request', () => {
  it('sends the token and decodes the answer', async () => {
    const fetchMock = vi.fn(async () => json(200, { ok: true }))
    vi.stubGlobal('fetch', fetchMock)
    setToken('tok')
    expect(await api.post('/api/x', { a: 1 })).toEqual({ ok: true })
    const [path, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(path).toBe('/api/x')
    expect(init.headers).toMatchObject({ Authorization: 'Bearer tok', 'Content-Type': 'application/json' })
  })

  it('signs out on a 401 to a request that carried the token', async () => {
    const ended = vi.fn()
    onUnauthorized(ended)
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: { message: 'session expired: sign in again', code: 'token_expired' } })))
    setToken('old')
    const err = await api.get('/api/auth/me').then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('token_expired')
    expect(ended).toHaveBeenCalledWith('session expired: sign in again')
  })

  it('does not sign out on a 401 without a token (a failed sign-in)', async () => {
    const ended = vi.fn()
    onUnauthorized(ended)
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: { message: 'invalid email or password' } })))
    await expect(api.post('/api/auth/login', {})).rejects.toThrow('invalid email or password')
    expect(ended).not.toHaveBeenCalled()
  })

  it('keeps the status text when the error is not JSON', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('upstream broke', { status: 502, statusText: 'Bad Gateway' })))
    await expect(api.get('/api/x')).rejects.toMatchObject({ status: 502, message: 'Bad Gateway' })
  })

  it('answers undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })))
    expect(await api.del('/api/x')).toBeUndefined()
  })
})

describe('withToken', () => {
  it('adds the token as a query parameter, escaped', () => {
    setToken('a+b/c')
    expect(withToken('/api/servers/events')).toBe('/api/servers/events?token=a%2Bb%2Fc')
    expect(withToken('/x?y=1')).toBe('/x?y=1&token=a%2Bb%2Fc')
    setToken(null)
    expect(withToken('/x')).toBe('/x')
  })
})
