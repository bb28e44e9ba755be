import type { ButtonHTMLAttributes, ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { Icon, type IconName } from './icons'

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'size' | 'type' | 'icon'> & {
  variant?: 'primary' | 'secondary' | 'ghost' | 'danger'
  size?: 'sm' | 'md'
  icon?: IconName
  busy?: boolean
  disabled?: boolean
  type?: 'button' | 'submit'
}

export function Button({ variant = 'secondary', size = 'md', icon, busy, children, class: cls, disabled, type = 'button', ...rest }: ButtonProps) {
  return (
    <button type={type} class={`btn btn-${variant} btn-${size} ${cls ?? ''}`} disabled={disabled || busy} aria-busy={busy} {...rest}>
      {busy ? <Spinner /> : icon ? <Icon name={icon} size={size === 'sm' ? 15 : 17} /> : null}
      {children}
    </button>
  )
}

export function Spinner({ label }: { label?: string }) {
  return <span class="spinner" role={label ? 'status' : undefined} aria-label={label} />
}

export function Badge({ tone = 'neutral', children, title }: { tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info' | 'accent'; children: ComponentChildren; title?: string }) {
  return <span class={`badge badge-${tone}`} title={title}>{children}</span>
}

// Progress is a labelled bar; value is 0–100.
export function Progress({ value, tone = 'accent', label, small }: { value: number; tone?: 'accent' | 'good' | 'warn' | 'bad' | 'muted'; label?: string; small?: boolean }) {
  const v = Math.max(0, Math.min(100, value))
  return (
    <div class={`progress progress-${tone} ${small ? 'progress-sm' : ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={Math.round(v)} aria-label={label}>
      <div class="progress-fill" style={{ width: `${v}%` }} />
    </div>
  )
}

export function PageHeader({ title, subtitle, children }: { title: string; subtitle?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
      </div>
      {children && <div class="page-actions">{children}</div>}
    </header>
  )
}

export function Card({ title, actions, children, class: cls, id }: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string }) {
  return (
    <section class={`card ${cls ?? ''}`} id={id}>
      {(title || actions) && (
        <div class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  )
}

export function Empty({ icon, title, children }: { icon?: IconName; title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      {icon && <Icon name={icon} size={28} />}
      <p class="empty-title">{title}</p>
      {children && <div class="muted">{children}</div>}
    </div>
  )
}

export function Field({ label, hint, error, children }: { label: string; hint?: ComponentChildren; error?: string; children: ComponentChildren }) {
  return (
    <label class={`field ${error ? 'field-error' : ''}`}>
      <span class="field-label">{label}</span>
      {children}
      {error ? <span class="field-msg error-text">{error}</span> : hint ? <span class="field-msg muted">{hint}</span> : null}
    </label>
  )
}

export function Switch({ checked, onChange, label, disabled }: { checked: boolean; onChange: (v: boolean) => void; label: string; disabled?: boolean }) {
  return (
    <label class="switch">
      <input type="checkbox" role="switch" checked={checked} disabled={disabled}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)} />
      <span class="switch-track" aria-hidden="true"><span class="switch-thumb" /></span>
      <span>{label}</span>
    </label>
  )
}

// Modal is a native <dialog>: focus trapping, Escape and the backdrop come with it.
export function Modal({ title, onClose, children, footer, wide }: { title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (d && !d.open) d.showModal()
    return () => d?.close()
  }, [])
  return (
    <dialog ref={ref} class={`modal ${wide ? 'modal-wide' : ''}`} aria-label={title}
      onCancel={(e) => { e.preventDefault(); onClose() }}
      onClick={(e) => { if (e.target === ref.current) onClose() }}>
      <div class="modal-head">
        <h2>{title}</h2>
        <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}><Icon name="x" /></button>
      </div>
      <div class="modal-body">{children}</div>
      {footer && <div class="modal-foot">{footer}</div>}
    </dialog>
  )
}

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint muted">{hint}</div>}
    </div>
  )
}

export function CopyField({ value, label }: { value: string; label: string }) {
  return (
    <div class="copy-field">
      <input readOnly value={value} aria-label={label} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
      <Button size="sm" icon="copy" onClick={() => void navigator.clipboard?.writeText(value)}>Copy</Button>
    </div>
  )
}
