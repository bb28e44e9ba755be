import { api } from './api'
import { follow } from './events'
import { setDownloads, updateDownload } from './live'
import { isFinal, type Download } from './types'

// Downloads belong to the daemon: the UI starts and controls them and follows
// their progress. The shared events stream reports every download (including ones
// started by the tray, another tab or before a restart); a download this tab is
// watching closely also gets its own progress stream, which reports every change.

const watching = new Map<string, () => void>()

export function watchDownload(id: string): void {
  if (watching.has(id)) return
  const stop = follow(
    `/api/models/download/${encodeURIComponent(id)}/progress`,
    {
      message: (d: Download) => {
        updateDownload(d)
        if (isFinal(d.status)) unwatch(id)
      },
    },
    undefined,
    false, // a task the daemon forgot answers 404: the shared stream still reports it
  )
  watching.set(id, stop)
}

function unwatch(id: string): void {
  watching.get(id)?.()
  watching.delete(id)
}

export function unwatchAll(): void {
  for (const id of [...watching.keys()]) unwatch(id)
}

export async function loadDownloads(): Promise<Download[]> {
  const list = await api.get<Download[]>('/api/models/downloads')
  setDownloads(list)
  return list
}

export async function startDownload(model: string): Promise<Download> {
  const d = await api.post<Download>('/api/models/download', { model_id: model })
  updateDownload(d)
  if (!isFinal(d.status)) watchDownload(d.task_id)
  return d
}

// clearFinished drops completed, cancelled and failed downloads from the list
// (the daemon also forgets completed ones a day after they end).
export async function clearFinished(): Promise<number> {
  const { cleared } = await api.del<{ cleared: number }>('/api/models/downloads')
  await loadDownloads()
  return cleared
}

export async function controlDownload(id: string, action: 'pause' | 'resume' | 'cancel'): Promise<Download> {
  const d = await api.post<Download>(`/api/models/download/${encodeURIComponent(id)}/${action}`)
  updateDownload(d)
  if (action === 'resume') watchDownload(id)
  return d
}
