import { useEffect, useRef, useState } from 'preact/hooks'
import { Icon } from '../components/icons'
import { Button, Empty, Field } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { streamChat, type ChatOptions, type Delta, type OverflowPolicy, type WireMessage } from '../lib/chatstream'
import { live } from '../lib/live'
import { navigate } from '../lib/router'
import { session } from '../lib/session'
import { createStore, useStore } from '../lib/store'
import type { LocalModel, V1Model } from '../lib/types'
import { Message, type Turn } from './chat-message'

// The conversation outlives the page, so moving to another page and back keeps it.
interface ChatState {
  model: string
  system: string
  temperature: string
  maxTokens: string
  overflow: OverflowPolicy
  turns: Turn[]
}

// The rolling window by default: a small model's chat goes on past its window
// instead of failing on the next turn.
const fresh: ChatState = { model: '', system: '', temperature: '', maxTokens: '', overflow: 'rolling_window', turns: [] }
const chat = createStore<ChatState>(fresh)
let nextID = 1
let controller: AbortController | null = null

// Signing out forgets the conversation: the next person at this tab must not see it.
session.subscribe((s) => {
  if (s.user) return
  controller?.abort()
  chat.set(fresh)
})

function patchLast(fn: (t: Turn) => Turn): void {
  chat.set((c) => ({ ...c, turns: [...c.turns.slice(0, -1), fn(c.turns[c.turns.length - 1])] }))
}

function applyDelta(t: Turn, d: Delta): Turn {
  const next = { ...t }
  if (d.content) next.content += d.content
  if (d.reasoning) next.reasoning = (next.reasoning ?? '') + d.reasoning
  if (d.toolCalls) {
    const calls = [...(next.toolCalls ?? [])]
    for (const c of d.toolCalls) {
      const cur = calls[c.index] ?? { name: '', arguments: '' }
      calls[c.index] = { id: c.id ?? cur.id, name: cur.name + (c.name ?? ''), arguments: cur.arguments + (c.arguments ?? '') }
    }
    next.toolCalls = calls
  }
  return next
}

// send adds the user's message and asks for the answer.
function send(text: string, base: boolean): Promise<void> {
  chat.set((s) => ({ ...s, turns: [...s.turns, { id: nextID++, role: 'user', content: text }] }))
  return answer(base)
}

// regenerate replaces the last answer with a new one.
function regenerate(base: boolean): Promise<void> {
  chat.set((s) => ({ ...s, turns: s.turns.slice(0, -1) }))
  return answer(base)
}

// edit rewrites a message of the user and answers it anew: what came after it
// answered the old text, so it goes.
function edit(id: number, text: string, base: boolean): Promise<void> {
  chat.set((s) => {
    const i = s.turns.findIndex((t) => t.id === id)
    return { ...s, turns: [...s.turns.slice(0, i), { ...s.turns[i], content: text }] }
  })
  return answer(base)
}

// continueAnswer has the model go on with the last answer, cut short by Stop or
// by max tokens: its text is sent as the start of the answer, and the new text
// is appended to it.
function continueAnswer(base: boolean): Promise<void> {
  return answer(base, true)
}

// answer asks for the answer to the conversation so far (or, with cont, the rest
// of the last one). A base model (no chat template) gets it as plain text to
// continue: chat markup would be noise to it.
async function answer(base: boolean, cont = false): Promise<void> {
  const c = chat.get()
  const history: WireMessage[] = c.turns
    .filter((t) => !t.error && (t.content || t.role === 'user'))
    .map((t) => ({ role: t.role, content: t.content }))
  const messages: WireMessage[] = [
    ...(c.system.trim() ? [{ role: 'system' as const, content: c.system }] : []),
    ...history,
  ]
  const opts: ChatOptions = base
    ? { model: c.model, prompt: history.map((m) => m.content).join('\n\n') }
    : { model: c.model, messages, context_overflow: c.overflow }
  if (c.temperature.trim()) opts.temperature = Number(c.temperature)
  if (c.maxTokens.trim()) opts.max_tokens = Number(c.maxTokens)
  if (cont) {
    if (!base) opts.continue_final_message = true
    patchLast((t) => ({ ...t, streaming: true, stopped: false, error: undefined, stats: undefined }))
  } else {
    chat.set((s) => ({
      ...s,
      turns: [...s.turns, { id: nextID++, role: 'assistant', content: '', streaming: true, model: c.model }],
    }))
  }

  controller = new AbortController()
  // Deltas arrive faster than the screen refreshes: apply them once per frame.
  let pending: Delta[] = []
  let frame = 0
  const flush = () => {
    frame = 0
    const batch = pending
    pending = []
    if (batch.length) patchLast((t) => batch.reduce(applyDelta, t))
  }
  try {
    const stats = await streamChat(opts, controller.signal, (d) => {
      pending.push(d)
      if (!frame) frame = requestAnimationFrame(flush)
    })
    cancelAnimationFrame(frame)
    flush()
    patchLast((t) => ({ ...t, streaming: false, stats, model: stats.model }))
  } catch (err) {
    cancelAnimationFrame(frame)
    flush()
    const aborted = err instanceof DOMException && err.name === 'AbortError'
    patchLast((t) => ({ ...t, streaming: false, stopped: aborted, error: aborted ? undefined : errorMessage(err) }))
  } finally {
    controller = null
  }
}

export function ChatPage() {
  const c = useStore(chat)
  const { servers } = useStore(live)
  const [models, setModels] = useState<V1Model[]>([])
  const [baseModels, setBaseModels] = useState<Set<string>>(new Set())
  const [text, setText] = useState('')
  const [showSettings, setShowSettings] = useState(false)
  const scroller = useRef<HTMLDivElement>(null)
  const stick = useRef(true)
  const streaming = c.turns.some((t) => t.streaming)

  useEffect(() => {
    api.get<{ data: V1Model[] }>('/v1/models').then((r) => {
      setModels(r.data)
      const asked = new URLSearchParams(location.search).get('model')
      const cur = chat.get().model
      const ids = r.data.map((m) => m.id)
      const loaded = servers.find((s) => s.state === 'ready' && ids.includes(s.model))?.model
      const pick = asked && ids.includes(asked) ? asked : cur && ids.includes(cur) ? cur : loaded ?? ids[0] ?? ''
      chat.set((s) => ({ ...s, model: pick }))
      if (asked) navigate('/chat', true)
    }, () => {})
    api.get<LocalModel[]>('/api/models/local').then((list) => {
      setBaseModels(new Set(list.filter((m) => m.no_chat_template).map((m) => m.id)))
    }, () => {})
  }, [])

  useEffect(() => {
    const el = scroller.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [c.turns])

  const submit = (e?: Event) => {
    e?.preventDefault()
    const t = text.trim()
    if (!t || streaming || !c.model) return
    setText('')
    stick.current = true
    void send(t, baseModels.has(c.model))
  }
  const set = (k: keyof ChatState) => (e: Event) => chat.set((s) => ({ ...s, [k]: (e.currentTarget as HTMLInputElement).value }))
  const profiles = models.filter((m) => m.owned_by === 'profile')
  const plain = models.filter((m) => m.owned_by !== 'profile')
  const ready = new Set(servers.filter((s) => s.state === 'ready').map((s) => s.model))

  return (
    <div class="chat">
      <div class="chat-bar">
        <select aria-label="Model or profile" value={c.model} onChange={set('model')} disabled={streaming}>
          {models.length === 0 && <option value="">No models: download one first</option>}
          {profiles.length > 0 && <optgroup label="Profiles">{profiles.map((m) => <option key={m.id} value={m.id}>{m.id}</option>)}</optgroup>}
          {plain.length > 0 && (
            <optgroup label="Models">
              {plain.map((m) => <option key={m.id} value={m.id}>{m.id}{ready.has(m.id) ? ' (loaded)' : ''}</option>)}
            </optgroup>
          )}
        </select>
        <span class="spacer" />
        <Button size="sm" variant="ghost" icon="settings" onClick={() => setShowSettings(!showSettings)} aria-expanded={showSettings}>Options</Button>
        <Button size="sm" variant="ghost" icon="plus" disabled={streaming || c.turns.length === 0}
          onClick={() => chat.set((s) => ({ ...s, turns: [] }))}>New chat</Button>
      </div>
      {showSettings && (
        <div class="chat-settings">
          <Field label="System prompt" hint="Profiles bring their own; this one is sent first when set.">
            <textarea rows={2} value={c.system} onInput={set('system')} />
          </Field>
          <Field label="Temperature"><input type="number" min="0" max="2" step="0.1" placeholder="default" value={c.temperature} onInput={set('temperature')} /></Field>
          <Field label="Max tokens"><input type="number" min="1" step="1" placeholder="default" value={c.maxTokens} onInput={set('maxTokens')} /></Field>
          <Field label="When the chat outgrows the context" hint="What the model no longer sees is marked in the chat.">
            <select value={c.overflow} onChange={set('overflow')}>
              <option value="rolling_window">Rolling window: drop the oldest messages</option>
              <option value="truncate_middle">Truncate middle: keep the first message, drop the ones after it</option>
              <option value="stop">Stop: refuse and show an error</option>
            </select>
          </Field>
        </div>
      )}
      {baseModels.has(c.model) && (
        <div class="alert alert-warn small" data-testid="base-model-warning" role="status">
          {c.model} has no chat template: it is a base model, which continues text rather than chats.
          Your messages are sent as plain text to the completions endpoint, and it writes what follows.
        </div>
      )}
      <div class="chat-log" ref={scroller} onScroll={(e) => {
        const el = e.currentTarget as HTMLDivElement
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
      }}>
        {c.turns.length === 0
          ? <Empty icon="chat" title="Start a conversation">Answers stream in as the model writes them. Models load on first use.</Empty>
          : c.turns.map((t, i) => {
            const base = baseModels.has(c.model)
            const last = i === c.turns.length - 1
            return <Message key={t.id} t={t} busy={streaming}
              onRegenerate={last && t.role === 'assistant' && c.model ? () => void regenerate(base) : undefined}
              onContinue={last && t.role === 'assistant' && c.model && !!t.content && !t.toolCalls?.length &&
                (t.stopped || t.stats?.finishReason === 'length') ? () => { stick.current = true; void continueAnswer(base) } : undefined}
              onEdit={t.role === 'user' && c.model ? (text) => { stick.current = true; void edit(t.id, text, base) } : undefined} />
          })}
      </div>
      <form class="composer" onSubmit={submit}>
        <textarea rows={2} placeholder={c.model ? `Message ${c.model}` : 'Pick a model first'} aria-label="Message" value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e)
          }} />
        {streaming
          ? <Button variant="danger" icon="stop" onClick={() => controller?.abort()}>Stop</Button>
          : <Button variant="primary" type="submit" disabled={!text.trim() || !c.model}><Icon name="send" /> Send</Button>}
      </form>
    </div>
  )
}
