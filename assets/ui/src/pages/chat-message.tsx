import { useMemo, useState } from 'preact/hooks'
import { Button } from '../components/ui'
import { Icon } from '../components/icons'
import type { ChatResult, Overflow } from '../lib/chatstream'
import { ms } from '../lib/format'
import { copyCodeOnClick, highlight, renderMarkdown } from '../lib/markdown'

export interface Turn {
  id: number
  role: 'user' | 'assistant'
  content: string
  images?: string[] // the user's images, as data: URLs
  reasoning?: string
  toolCalls?: { id?: string; name: string; arguments: string }[]
  stats?: ChatResult
  model?: string
  error?: string
  stopped?: boolean
  streaming?: boolean
}

function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text])
  return <div class="markdown" onClick={copyCodeOnClick} dangerouslySetInnerHTML={{ __html: html }} />
}

function prettyJSON(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2)
  } catch {
    return s
  }
}

interface MessageProps {
  t: Turn
  busy: boolean // an answer is streaming: no edits or regenerations meanwhile
  onRegenerate?: () => void
  onContinue?: () => void // the answer was cut short (Stop, max tokens): go on with it
  onEdit?: (text: string) => void
}

export function Message({ t, busy, onRegenerate, onContinue, onEdit }: MessageProps) {
  const [editing, setEditing] = useState<string | null>(null)
  if (t.role === 'user') {
    if (editing !== null && onEdit) {
      return (
        <form class="msg msg-user msg-editing" data-testid="msg-user" onSubmit={(e) => {
          e.preventDefault()
          if (!editing.trim()) return
          setEditing(null)
          onEdit(editing.trim())
        }}>
          <textarea aria-label="Edit message" rows={3} value={editing} onInput={(e) => setEditing((e.currentTarget as HTMLTextAreaElement).value)} />
          <div class="msg-actions">
            <Button size="sm" variant="ghost" onClick={() => setEditing(null)}>Cancel</Button>
            <Button size="sm" variant="primary" type="submit" disabled={busy || !editing.trim()}>Save and send</Button>
          </div>
        </form>
      )
    }
    return (
      <div class="msg msg-user" data-testid="msg-user">
        {!!t.images?.length && (
          <div class="msg-images">
            {t.images.map((src, i) => <img key={i} src={src} alt={`image ${i + 1}`} data-testid="msg-image" />)}
          </div>
        )}
        {t.content && <div class="bubble">{t.content}</div>}
        <div class="msg-actions">
          <CopyButton text={t.content} />
          {onEdit && <Button size="sm" variant="ghost" icon="edit" disabled={busy} onClick={() => setEditing(t.content)}>Edit</Button>}
        </div>
      </div>
    )
  }
  const thinking = t.streaming && !t.content && !!t.reasoning
  return (
    <div class="msg msg-assistant" data-testid="msg-assistant" data-streaming={t.streaming ? 'true' : 'false'}>
      <div class="avatar"><Icon name="chip" size={16} /></div>
      <div class="msg-body">
        {t.reasoning && (
          <details class="reasoning" open={thinking}>
            <summary><Icon name="brain" size={14} /> {thinking ? 'Thinking…' : 'Reasoning'}</summary>
            <div class="reasoning-text">{t.reasoning}</div>
          </details>
        )}
        {t.content && <Markdown text={t.content} />}
        {t.toolCalls?.map((c, i) => (
          <div class="tool-call" key={i} data-testid="tool-call">
            <div class="tool-call-head"><Icon name="tool" size={14} /> Tool call <span class="mono strong">{c.name}</span></div>
            <pre><code class="hljs" dangerouslySetInnerHTML={{ __html: highlight(prettyJSON(c.arguments), 'json') }} /></pre>
          </div>
        ))}
        {t.streaming && !t.content && !t.reasoning && !t.toolCalls?.length && <div class="typing"><span /><span /><span /></div>}
        {t.stats?.overflow && <OverflowNote o={t.stats.overflow} />}
        {t.stats?.warning && <div class="alert alert-warn small" data-testid="answer-warning">{t.stats.warning}</div>}
        {t.error && <div class="alert alert-bad small">{t.error}</div>}
        {(t.stats || t.stopped) && <Stats t={t} />}
        {!t.streaming && (
          <div class="msg-actions">
            {t.content && <CopyButton text={t.content} />}
            {onRegenerate && <Button size="sm" variant="ghost" icon="refresh" disabled={busy} onClick={onRegenerate}>Regenerate</Button>}
            {onContinue && <Button size="sm" variant="ghost" icon="play" disabled={busy} onClick={onContinue}>Continue</Button>}
          </div>
        )}
      </div>
    </div>
  )
}

function CopyButton({ text }: { text: string }) {
  const [done, setDone] = useState(false)
  return (
    <Button size="sm" variant="ghost" icon={done ? 'check' : 'copy'} onClick={() => {
      void navigator.clipboard?.writeText(text).then(() => {
        setDone(true)
        setTimeout(() => setDone(false), 1500)
      })
    }}>{done ? 'Copied' : 'Copy'}</Button>
  )
}

function OverflowNote({ o }: { o: Overflow }) {
  const n = `${o.droppedMessages} ${o.droppedMessages === 1 ? 'message' : 'messages'}`
  const what = o.policy === 'truncate_middle' ? `${n} after the first one` : `the oldest ${n}`
  return (
    <div class="alert alert-warn small" data-testid="context-overflow" role="status">
      The chat outgrew the model's context: {what} ({o.droppedTokens} tokens) {o.droppedMessages === 1 ? 'was' : 'were'} left out of this answer's prompt.
    </div>
  )
}

function Stats({ t }: { t: Turn }) {
  const s = t.stats
  return (
    <div class="msg-stats muted small" data-testid="msg-stats">
      {t.stopped && <span>stopped</span>}
      {s && s.completionTokens > 0 && <span>{s.promptTokens} prompt + {s.completionTokens} completion tokens</span>}
      {s && s.tokensPerSecond > 0 && <span data-testid="tokens-per-second">{s.tokensPerSecond.toFixed(1)} tok/s</span>}
      {s && s.ttftMs > 0 && <span>first token {ms(s.ttftMs)}</span>}
      {s?.finishReason === 'length' && <span>cut at max tokens</span>}
      {t.model && <span class="mono">{t.model}</span>}
    </div>
  )
}
