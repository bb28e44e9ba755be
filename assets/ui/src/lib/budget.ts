// The pool's memory budget as people type it.

const sizeUnits: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 }

// parseBudget reads "70%", "16 GB", "12GiB" or a number of bytes; "" is the default.
export function parseBudget(s: string): number | string | null | Error {
  const v = s.trim().toLowerCase()
  if (!v) return null
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(v)
  if (pct) return `${pct[1]}%`
  const size = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/.exec(v)
  if (!size) return new Error('Give a size such as 16 GB or a share of RAM such as 70%')
  return Math.round(Number(size[1]) * sizeUnits[size[2] ?? 'b'])
}

// formatBudget writes a stored budget so that parseBudget reads back the same value.
export function formatBudget(b: number | string | null | undefined): string {
  if (b == null) return ''
  if (typeof b === 'string') return b
  for (const [unit, size] of [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2]] as const) {
    if (b >= size && b % size === 0) return `${b / size} ${unit}`
  }
  return String(b)
}
