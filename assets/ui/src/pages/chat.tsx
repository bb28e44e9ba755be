import { useEffect, useRef, useState } from 'preact/hooks'
import { Icon } from '../components/icons'
import { Button, Empty, Field } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { streamChat, type ChatOptions, type ContentPart, type Delta, type OverflowPolicy, type WireMessage } from '../lib/chatstream'
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

// send adds the user's message (and images) and asks for the answer.
function send(text: string, base: boolean, images: string[] = []): Promise<void> {
  const turn: Turn = { id: nextID++, role: 'user', content: text }
  if (images.length) turn.images = images
  chat.set((s) => ({ ...s, turns: [...s.turns, turn] }))
  return answer(base)
}

// wire is a turn as /v1/chat/completions takes it: a user turn with images
// becomes content parts, its text first.
function wire(t: Turn): WireMessage {
  if (!t.images?.length) return { role: t.role, content: t.content }
  const parts: ContentPart[] = t.content ? [{ type: 'text', text: t.content }] : []
  for (const url of t.images) parts.push({ type: 'image_url', image_url: { url } })
  return { role: t.role, content: parts }
}

// Image files the chat accepts (the formats the server decodes), and their size limit.
const imageTypes = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
const maxImageBytes = 20 << 20

// readImages turns the image files among files into data: URLs; the others
// are reported by name.
async function readImages(files: Iterable<File>): Promise<{ urls: string[]; refused: string[] }> {
  const urls: string[] = []
  const refused: string[] = []
  for (const f of files) {
    if (!imageTypes.includes(f.type) || f.size > maxImageBytes) {
      refused.push(f.name || f.type || 'file')
      continue
    }
    urls.push(await new Promise<string>((resolve, reject) => {
      const r = new FileReader()
      r.onload = () => resolve(r.result as string)
      r.onerror = () => reject(r.error)
      r.readAsDataURL(f)
    }))
  }
  return { urls, refused }
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
  const kept = c.turns.filter((t) => !t.error && (t.content || t.role === 'user'))
  const history: WireMessage[] = kept.map(wire)
  const messages: WireMessage[] = [
    ...(c.system.trim() ? [{ role: 'system' as const, content: c.system }] : []),
    ...history,
  ]
  const opts: ChatOptions = base
    ? { model: c.model, prompt: kept.map((t) => t.content).join('\n\n') }
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
  const [images, setImages] = useState<string[]>([])
  const [imageError, setImageError] = useState('')
  const [visionModels, setVisionModels] = useState<Set<string>>(new Set())
  const fileInput = useRef<HTMLInputElement>(null)
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
      setVisionModels(new Set(list.filter((m) => m.vision).map((m) => m.id)))
    }, () => {})
  }, [])

  useEffect(() => {
    const el = scroller.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [c.turns])

  const submit = (e?: Event) => {
    e?.preventDefault()
    const t = text.trim()
    if ((!t && images.length === 0) || streaming || !c.model) return
    setText('')
    setImages([])
    setImageError('')
    stick.current = true
    void send(t, baseModels.has(c.model), images)
  }
  // attach adds the images among files (pasted, dropped or picked) to the message.
  const attach = (files: Iterable<File>) => {
    void readImages(files).then(({ urls, refused }) => {
      if (urls.length) setImages((cur) => [...cur, ...urls])
      setImageError(refused.length ? `Not attached (PNG, JPEG, GIF or WebP up to 20 MB): ${refused.join(', ')}` : '')
    }, (err) => setImageError(errorMessage(err)))
  }
  const noVision = images.length > 0 && !!c.model && !visionModels.has(c.model)
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
              {plain.map((m) => <option key={m.id} value={m.id}>{m.id}{visionModels.has(m.id) ? ' (vision)' : ''}{ready.has(m.id) ? ' (loaded)' : ''}</option>)}
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
      {(images.length > 0 || imageError || noVision) && (
        <div class="composer-images">
          {images.map((src, i) => (
            <div class="thumb" key={i} data-testid="pending-image">
              <img src={src} alt={`attached image ${i + 1}`} />
              <button type="button" class="thumb-remove" aria-label={`Remove image ${i + 1}`}
                onClick={() => setImages((cur) => cur.filter((_, j) => j !== i))}><Icon name="x" size={12} /></button>
            </div>
          ))}
          {noVision && <div class="alert alert-warn small" data-testid="no-vision-warning">{c.model} reads text only: pick a vision model to ask about images.</div>}
          {imageError && <div class="alert alert-bad small">{imageError}</div>}
        </div>
      )}
      <form class="composer" onSubmit={submit}
        onDragOver={(e) => { if (e.dataTransfer?.types.includes('Files')) e.preventDefault() }}
        onDrop={(e) => {
          if (!e.dataTransfer?.files.length) return
          e.preventDefault()
          attach(Array.from(e.dataTransfer.files))
        }}>
        <input ref={fileInput} type="file" accept={imageTypes.join(',')} multiple hidden data-testid="image-input"
          onChange={(e) => {
            const el = e.currentTarget as HTMLInputElement
            if (el.files) attach(Array.from(el.files))
            el.value = ''
          }} />
        <Button variant="ghost" icon="image" aria-label="Attach images" title="Attach images (or paste or drop them)"
          disabled={streaming} onClick={() => fileInput.current?.click()} />
        <textarea rows={2} placeholder={c.model ? `Message ${c.model}` : 'Pick a model first'} aria-label="Message" value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onPaste={(e) => {
            const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'))
            if (!files.length) return
            e.preventDefault()
            attach(files)
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e)
          }} />
        {streaming
          ? <Button variant="danger" icon="stop" onClick={() => controller?.abort()}>Stop</Button>
          : <Button variant="primary" type="submit" disabled={(!text.trim() && images.length === 0) || !c.model || noVision}><Icon name="send" /> Send</Button>}
      </form>
    </div>
  )
}
