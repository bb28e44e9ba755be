// Display helpers shared by the pages.
import type { Serving } from './types'

const units = ['B', 'KB', 'MB', 'GB', 'TB']

// bytes formats a size in decimal units, as disks and the Hub count them.
export function bytes(n: number | undefined | null): string {
  if (n == null || !Number.isFinite(n)) return '—'
  if (n < 1000) return `${Math.round(n)} B`
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`
}

export function count(n: number | undefined | null): string {
  if (n == null) return '—'
  if (n < 1000) return String(n)
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`
  return `${(n / 1e9).toFixed(1)}B`
}

// params formats a parameter count the way model names do: 0.6B, 260K.
export function params(n: number | undefined | null): string {
  if (!n) return '—'
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`
  if (n >= 1e3) return `${Math.round(n / 1e3)}K`
  return String(n)
}

// duration formats seconds as "1h 4m", "3m 12s" or "42s".
export function duration(seconds: number | undefined | null): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

export function ms(v: number | undefined | null): string {
  if (v == null || !v) return '—'
  if (v < 1000) return `${Math.round(v)} ms`
  return `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

// ago formats a time relative to now: "3 minutes ago".
export function ago(iso: string | undefined | null, now = Date.now()): string {
  if (!iso) return '—'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return '—'
  const diff = (t - now) / 1000
  const abs = Math.abs(diff)
  if (abs < 45) return rtf.format(Math.round(diff), 'second')
  if (abs < 2700) return rtf.format(Math.round(diff / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour')
  return rtf.format(Math.round(diff / 86400), 'day')
}

const timeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
})

const clockFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

// when is a compact time: only the clock for today, with the date before.
export function when(iso: string | undefined | null): string {
  if (!iso) return '—'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return '—'
  return new Date(t).toDateString() === new Date().toDateString() ? clockFmt.format(t) : timeFmt.format(t)
}

export function dateTime(iso: string | undefined | null): string {
  if (!iso) return '—'
  const t = Date.parse(iso)
  return Number.isNaN(t) ? '—' : timeFmt.format(t)
}

// ttl describes a time-to-live in seconds: negative is forever, 0 after each request.
export function ttl(seconds: number | null | undefined): string {
  if (seconds == null) return 'default'
  if (seconds < 0) return 'forever'
  if (seconds === 0) return 'after each request'
  return duration(seconds)
}

export function percent(done: number, total: number): number {
  if (!total) return 0
  return Math.max(0, Math.min(100, (done * 100) / total))
}

// detailPairs reads an audit event's detail as key/value pairs, when it is a
// JSON object ({"budget":"70%"}) or key=value words (retention_days=30
// max_events=0), so the log shows a definition list instead of raw text. Other
// details (a name, a sentence) give null.
export function detailPairs(detail: string): [string, string][] | null {
  const s = detail.trim()
  if (s.startsWith('{')) {
    try {
      const v = JSON.parse(s)
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        return Object.entries(v).map(([k, x]) => [k, x === null ? '—' : typeof x === 'object' ? JSON.stringify(x) : String(x)])
      }
    } catch {
      return null
    }
    return null
  }
  const words = s.split(/\s+/)
  if (words.length === 0 || !words.every((w) => /^[A-Za-z_][\w.-]*=\S*$/.test(w))) return null
  return words.map((w) => {
    const i = w.indexOf('=')
    return [w.slice(0, i), w.slice(i + 1)]
  })
}

/** A model's scheduler slots in words: "2 of 4 running (+3 waiting), batch 2". */
export function batchText(v: Serving): string {
  const waiting = v.waiting ? ` (+${v.waiting} waiting)` : ''
  return `${v.running} of ${v.slots} running${waiting}, batch ${v.batch_size}`
}

/** A model's prefix cache: hit rate, sequences kept and their KV memory when known. */
export function prefixText(v: Serving): string {
  const kv = v.prefix_kv_bytes ? `, ${bytes(v.prefix_kv_bytes)}` : ''
  return `${Math.round(v.prefix_hit_rate * 100)}% hits, ${v.prefix_sequences} kept${kv}`
}
