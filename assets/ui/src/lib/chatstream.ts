import { authHeaders, failure, getToken } from './api'

// A client for /v1/chat/completions with stream: true. It reads the SSE body of a
// fetch (EventSource cannot POST) and reports each delta as it arrives.

export interface ToolCall {
  id?: string
  type?: string
  function: { name: string; arguments: string }
}

// ContentPart is a part of a user message with images: its text, then each
// image as a data: URL.
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }

export interface WireMessage {
  role: 'system' | 'user' | 'assistant' | 'tool'
  content: string | ContentPart[]
  tool_calls?: ToolCall[]
  tool_call_id?: string
}

export interface ChatOptions {
  model: string
  messages?: WireMessage[]
  prompt?: string // instead of messages: continue this text through /v1/completions
  temperature?: number
  top_p?: number
  max_tokens?: number
  context_overflow?: OverflowPolicy
  continue_final_message?: boolean // the last message, an assistant's, is continued
}

// What the server does when the chat outgrows the model's window (LM Studio's policies).
export type OverflowPolicy = 'truncate_middle' | 'rolling_window' | 'stop'

// Overflow is what the policy left out of the prompt.
export interface Overflow {
  policy: OverflowPolicy
  droppedMessages: number
  droppedTokens: number
}

export interface Delta {
  content?: string
  reasoning?: string
  toolCalls?: { index: number; id?: string; name?: string; arguments?: string }[]
}

export interface ChatResult {
  model: string
  finishReason: string
  promptTokens: number
  completionTokens: number
  ttftMs: number
  durationMs: number
  tokensPerSecond: number
  overflow?: Overflow
  warning?: string
}

interface Chunk {
  model?: string
  choices?: {
    text?: string // a /v1/completions chunk
    delta?: {
      content?: string | null
      reasoning_content?: string
      reasoning?: string
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[]
    }
    finish_reason?: string | null
  }[]
  usage?: { prompt_tokens: number; completion_tokens: number } | null
  context_overflow?: { policy: OverflowPolicy; dropped_messages: number; dropped_tokens: number }
  warning?: string
  error?: { message?: string }
}

// parseSSE splits a buffer into complete events' data payloads, returning what is
// left over (an event not yet ended by a blank line).
export function parseSSE(buffer: string): { data: string[]; rest: string } {
  const data: string[] = []
  const text = buffer.replace(/\r\n?/g, '\n')
  const events = text.split('\n\n')
  const rest = events.pop() ?? ''
  for (const ev of events) {
    const lines = ev.split('\n').filter((l) => l.startsWith('data:'))
    if (lines.length === 0) continue
    data.push(lines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n'))
  }
  return { data, rest }
}

// streamChat runs one chat completion, calling onDelta for every piece. Abort the
// signal to stop generating: the server sees the client leave and stops too.
export async function streamChat(opts: ChatOptions, signal: AbortSignal, onDelta: (d: Delta) => void): Promise<ChatResult> {
  const start = performance.now()
  const sent = getToken()
  const path = opts.prompt !== undefined ? '/v1/completions' : '/v1/chat/completions'
  const res = await fetch(path, {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
    body: JSON.stringify({ ...opts, stream: true, stream_options: { include_usage: true } }),
    signal,
  })
  if (!res.ok || !res.body) throw await failure(res, sent)

  const result: ChatResult = {
    model: opts.model, finishReason: '', promptTokens: 0, completionTokens: 0, ttftMs: 0, durationMs: 0, tokensPerSecond: 0,
  }
  let first = 0
  const handle = (payload: string): boolean => {
    if (payload.trim() === '[DONE]') return true
    const chunk = JSON.parse(payload) as Chunk
    if (chunk.error) throw new Error(chunk.error.message ?? 'generation failed')
    if (chunk.model) result.model = chunk.model
    if (chunk.warning) result.warning = chunk.warning
    if (chunk.context_overflow) {
      const o = chunk.context_overflow
      result.overflow = { policy: o.policy, droppedMessages: o.dropped_messages, droppedTokens: o.dropped_tokens }
    }
    if (chunk.usage) {
      result.promptTokens = chunk.usage.prompt_tokens
      result.completionTokens = chunk.usage.completion_tokens
    }
    for (const choice of chunk.choices ?? []) {
      const d = choice.delta ?? {}
      const delta: Delta = {}
      if (d.content) delta.content = d.content
      if (choice.text) delta.content = choice.text
      if (d.reasoning_content || d.reasoning) delta.reasoning = d.reasoning_content || d.reasoning
      if (d.tool_calls?.length) {
        delta.toolCalls = d.tool_calls.map((t) => ({
          index: t.index, id: t.id, name: t.function?.name, arguments: t.function?.arguments,
        }))
      }
      if (delta.content || delta.reasoning || delta.toolCalls) {
        if (!first) first = performance.now()
        onDelta(delta)
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason
    }
    return false
  }

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (let done = false; !done; ) {
    const { value, done: eof } = await reader.read()
    if (eof) break
    buffer += value
    const { data, rest } = parseSSE(buffer)
    buffer = rest
    for (const payload of data) {
      if (handle(payload)) done = true
    }
  }
  const end = performance.now()
  result.durationMs = end - start
  result.ttftMs = first ? first - start : 0
  result.tokensPerSecond = tokensPerSecond(result.completionTokens, start, first, end)
  return result
}

// minDecodeWindow is the shortest stretch between first and last token worth timing:
// a fast model's whole answer can arrive in one network read.
const minDecodeWindow = 50 // ms

// tokensPerSecond is the decode speed the user saw: tokens after the first over the
// time after it, or over the whole request when the answer came in one burst.
export function tokensPerSecond(tokens: number, start: number, first: number, end: number): number {
  if (tokens > 1 && first && end - first >= minDecodeWindow) return ((tokens - 1) * 1000) / (end - first)
  if (tokens > 0 && end > start) return (tokens * 1000) / (end - start)
  return 0
}
