import { api } from './api'
import { follow } from './events'
import { refreshPending, usersChanged } from './pending'
import { createStore } from './store'
import { isFinal, type Download, type Memory, type ModelEvent, type ServersOverview, type ServerView } from './types'

// live is the pool and download state of the daemon, kept current by the one
// /api/servers/events stream while someone is signed in.
export interface Live {
  connected: boolean
  servers: ServerView[]
  memory: Memory | null
  downloads: Record<string, Download> // by task id
  lastEvent: ModelEvent | null
}

export const live = createStore<Live>({ connected: false, servers: [], memory: null, downloads: {}, lastEvent: null })

let stop: (() => void) | null = null
let refetchTimer: number | undefined

export function startLive(): void {
  if (stop) return
  stop = follow(
    '/api/servers/events',
    {
      snapshot: (s: ServersOverview & { downloads: Download[] }) => {
        live.set((l) => ({ ...l, servers: s.servers, memory: s.memory, downloads: mergeDownloads({}, s.downloads) }))
      },
      model: (ev: ModelEvent) => {
        live.set((l) => ({ ...l, lastEvent: ev }))
        refreshServers()
      },
      memory: (m: Memory) => live.set((l) => ({ ...l, memory: m })),
      download: (d: Download) => updateDownload(d),
      users: (u: { pending: number }) => usersChanged(u.pending),
    },
    (connected) => {
      live.set((l) => ({ ...l, connected }))
      // Changes made while the stream was down are not replayed: re-read.
      if (connected) void refreshPending()
    },
  )
}

export function stopLive(): void {
  stop?.()
  stop = null
  live.set({ connected: false, servers: [], memory: null, downloads: {}, lastEvent: null })
}

// refreshServers re-reads the pool soon; bursts of events cost one request.
export function refreshServers(delay = 100): void {
  clearTimeout(refetchTimer)
  refetchTimer = window.setTimeout(async () => {
    try {
      const o = await api.get<ServersOverview>('/api/servers')
      live.set((l) => ({ ...l, servers: o.servers, memory: o.memory }))
    } catch {
      // the stream will bring the state back
    }
  }, delay)
}

// mergeDownloads applies the daemon's full list. A finished download missing
// from it was cleared (or expired) there and goes; an active one missing may be
// a start this tab saw before the list was read, so it stays.
function mergeDownloads(into: Record<string, Download>, list: Download[]): Record<string, Download> {
  const listed = new Set(list.map((d) => d.task_id))
  const out: Record<string, Download> = {}
  for (const [id, d] of Object.entries(into)) {
    if (listed.has(id) || !isFinal(d.status)) out[id] = d
  }
  for (const d of list) out[d.task_id] = newer(out[d.task_id], d)
  return out
}

// newer keeps the most recent of two views of a task: the per-task stream and the
// shared one may deliver them out of order.
function newer(a: Download | undefined, b: Download): Download {
  if (!a) return b
  return Date.parse(b.updated_at) >= Date.parse(a.updated_at) ? b : a
}

export function updateDownload(d: Download): void {
  live.set((l) => ({ ...l, downloads: { ...l.downloads, [d.task_id]: newer(l.downloads[d.task_id], d) } }))
}

export function setDownloads(list: Download[]): void {
  live.set((l) => ({ ...l, downloads: mergeDownloads(l.downloads, list) }))
}
