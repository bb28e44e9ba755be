import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { errorMessage } from '../lib/api'
import { createStore, useStore } from '../lib/store'
import { Icon } from './icons'
import { Button, Modal } from './ui'

// Toasts and confirmation dialogs, callable from anywhere.

interface Toast {
  id: number
  tone: 'good' | 'bad' | 'info'
  text: string
}

const toasts = createStore<Toast[]>([])
let nextToast = 1

export function toast(text: string, tone: Toast['tone'] = 'good'): void {
  const id = nextToast++
  toasts.set((t) => [...t.slice(-3), { id, tone, text }])
  setTimeout(() => dismiss(id), tone === 'bad' ? 8000 : 4000)
}

export function toastError(err: unknown, context?: string): void {
  toast(context ? `${context}: ${errorMessage(err)}` : errorMessage(err), 'bad')
}

function dismiss(id: number): void {
  toasts.set((t) => t.filter((x) => x.id !== id))
}

export function Toasts() {
  const list = useStore(toasts)
  return (
    <div class="toasts" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.tone}`} role={t.tone === 'bad' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}><Icon name="x" size={14} /></button>
        </div>
      ))}
    </div>
  )
}

interface Ask {
  title: string
  body: ComponentChildren
  confirm: string
  danger: boolean
  resolve: (ok: boolean) => void
}

const asking = createStore<Ask | null>(null)

// confirmAction asks before something that cannot be undone.
export function confirmAction(title: string, body: ComponentChildren, confirm = 'Confirm', danger = true): Promise<boolean> {
  return new Promise((resolve) => asking.set({ title, body, confirm, danger, resolve }))
}

export function ConfirmHost() {
  const ask = useStore(asking)
  const [busy, setBusy] = useState(false)
  if (!ask) return null
  const done = (ok: boolean) => {
    setBusy(false)
    asking.set(null)
    ask.resolve(ok)
  }
  return (
    <Modal title={ask.title} onClose={() => done(false)}
      footer={<>
        <Button variant="ghost" onClick={() => done(false)}>Cancel</Button>
        <Button variant={ask.danger ? 'danger' : 'primary'} busy={busy} onClick={() => { setBusy(true); done(true) }}>{ask.confirm}</Button>
      </>}>
      <div class="confirm-body">{ask.body}</div>
    </Modal>
  )
}

// ErrorNote shows a failure as one short sentence: the daemon's messages wrap
// their causes ("the Hugging Face Hub cannot be reached: cannot resolve
// huggingface.co: no such host"), which are for whoever looks into it, so they
// sit behind a Details toggle instead of overflowing the card.
export function ErrorNote({ message }: { message: string }) {
  const cut = message.indexOf(': ')
  const head = cut > 0 ? message.slice(0, cut) : message
  const sentence = head.charAt(0).toUpperCase() + head.slice(1) + (/[.!?]$/.test(head) ? '' : '.')
  return (
    <div class="alert alert-bad error-note" role="alert" data-testid="error-note">
      <span>{sentence}</span>
      {cut > 0 && (
        <details>
          <summary>Details</summary>
          <div class="error-detail mono small">{message}</div>
        </details>
      )}
    </div>
  )
}
