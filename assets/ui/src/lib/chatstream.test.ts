import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from './api'
import { parseSSE, streamChat, tokensPerSecond, type Delta } from './chatstream'

describe('parseSSE', () => {
  it('splits complete events and keeps the rest', () => {
    const { data, rest } = parseSSE('data: {"a":1}\n\n: keep-alive\n\ndata: {"b"')
    expect(data).toEqual(['{"a":1}'])
    expect(rest).toBe('data: {"b"')
  })
  it('joins multi-line data and accepts CRLF and no space after the colon', () => {
    const { data, rest } = parseSSE('event: x\r\ndata:line one\r\ndata: line two\r\n\r\ndata: [DONE]\n\n')
    expect(data).toEqual(['line one\nline two', '[DONE]'])
    expect(rest).toBe('')
  })
})

// sse makes a streamed response whose body arrives in the given pieces, split at
// awkward places, as a network would.
function sse(pieces: string[], status = 200): Response {
  const enc = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of pieces) c.enqueue(enc.encode(p))
      c.close()
    },
  })
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } })
}

const chunk = (delta: object, extra: object = {}) => `data: ${JSON.stringify({ model: 'org/m', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`

afterEach(() => vi.unstubAllGlobals())

describe('streamChat', () => {
  it('reports content, reasoning and tool calls, then usage', async () => {
    const stream =
      chunk({ role: 'assistant', reasoning_content: 'think' }) +
      chunk({ content: 'Hel' }) + chunk({ content: 'lo' }) +
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'get_weather', arguments: '{"ci' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }) +
      `data: ${JSON.stringify({ model: 'org/m', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n` +
      `data: ${JSON.stringify({ model: 'org/m', choices: [], usage: { prompt_tokens: 7, completion_tokens: 5 } })}\n\n` +
      'data: [DONE]\n\n'
    const pieces = stream.match(/[\s\S]{1,17}/g)!
    const fetchMock = vi.fn(async () => sse(pieces))
    vi.stubGlobal('fetch', fetchMock)

    const deltas: Delta[] = []
    const res = await streamChat({ model: 'org/m', messages: [{ role: 'user', content: 'hi' }] }, new AbortController().signal, (d) => deltas.push(d))

    expect(deltas.map((d) => d.content ?? '').join('')).toBe('Hello')
    expect(deltas.map((d) => d.reasoning ?? '').join('')).toBe('think')
    const args = deltas.flatMap((d) => d.toolCalls ?? []).map((t) => t.arguments).join('')
    expect(args).toBe('{"city":"Paris"}')
    expect(res).toMatchObject({ model: 'org/m', finishReason: 'tool_calls', promptTokens: 7, completionTokens: 5 })

    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    const body = JSON.parse(init.body as string)
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true }, model: 'org/m' })
  })

  it('sends the overflow policy and reports what it dropped', async () => {
    const finish = { model: 'org/m', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      context_overflow: { policy: 'rolling_window', dropped_messages: 2, dropped_tokens: 131 } }
    const fetchMock = vi.fn(async () => sse([chunk({ content: 'ok' }), `data: ${JSON.stringify(finish)}\n\n`, 'data: [DONE]\n\n']))
    vi.stubGlobal('fetch', fetchMock)
    const res = await streamChat({ model: 'org/m', messages: [], context_overflow: 'rolling_window' }, new AbortController().signal, () => {})
    expect(res.overflow).toEqual({ policy: 'rolling_window', droppedMessages: 2, droppedTokens: 131 })
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(JSON.parse(init.body as string)).toMatchObject({ context_overflow: 'rolling_window' })
  })

  it('turns an error answer into an ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(
      JSON.stringify({ error: { message: 'model x not found', code: 'model_not_found', param: 'model' } }),
      { status: 404, headers: { 'Content-Type': 'application/json' } })))
    const err = await streamChat({ model: 'x', messages: [] }, new AbortController().signal, () => {}).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 404, message: 'model x not found', code: 'model_not_found', param: 'model' })
  })

  it('stops when the signal is aborted mid-stream', async () => {
    const enc = new TextEncoder()
    // A stream that sends one delta and then waits forever, as a long answer does.
    vi.stubGlobal('fetch', vi.fn(async (_: string, init: RequestInit) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(chunk({ content: 'Once' })))
          init.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
        },
      })
      return new Response(body, { status: 200 })
    }))
    const ctl = new AbortController()
    const seen: Delta[] = []
    const done = streamChat({ model: 'm', messages: [] }, ctl.signal, (d) => {
      seen.push(d)
      ctl.abort()
    })
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen).toEqual([{ content: 'Once' }])
  })

  it('fails on an error event in the stream', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => sse([chunk({ content: 'a' }), 'data: {"error":{"message":"out of memory"}}\n\n'])))
    await expect(streamChat({ model: 'm', messages: [] }, new AbortController().signal, () => {})).rejects.toThrow('out of memory')
  })
})

describe('tokensPerSecond', () => {
  it('times the tokens after the first', () => {
    expect(tokensPerSecond(101, 0, 200, 1200)).toBe(100)
  })
  it('times the whole request when the answer came in one burst', () => {
    expect(tokensPerSecond(96, 0, 47.5, 48)).toBe(2000)
  })
  it('is zero without tokens', () => {
    expect(tokensPerSecond(0, 0, 0, 10)).toBe(0)
  })
})
