import { useState } from 'preact/hooks'
import { toastError } from '../components/feedback'
import { Badge, Button, Card, Progress } from '../components/ui'
import { clearFinished, controlDownload } from '../lib/downloads'
import { bytes, duration } from '../lib/format'
import { isFinal, type Download, type DownloadStatus } from '../lib/types'

const tones: Record<DownloadStatus, 'neutral' | 'good' | 'warn' | 'bad' | 'info' | 'accent'> = {
  pending: 'neutral', downloading: 'accent', paused: 'warn', verifying: 'info',
  completed: 'good', failed: 'bad', cancelled: 'neutral',
}

const barTones: Record<DownloadStatus, 'accent' | 'good' | 'warn' | 'bad' | 'muted'> = {
  pending: 'accent', downloading: 'accent', verifying: 'accent', paused: 'warn',
  completed: 'good', failed: 'bad', cancelled: 'muted',
}

export function StatusBadge({ status }: { status: DownloadStatus }) {
  return <Badge tone={tones[status]}>{status}</Badge>
}

// recentFinished is how many finished downloads show before "show all".
const recentFinished = 5

// Downloads lists the downloads the daemon knows, newest first: every active one
// and the last few finished.
export function Downloads({ list }: { list: Download[] }) {
  const [all, setAll] = useState(false)
  const [clearing, setClearing] = useState(false)
  if (list.length === 0) return null
  const active = list.filter((d) => !isFinal(d.status))
  const finished = list.filter((d) => isFinal(d.status))
  const shown = [...active, ...(all ? finished : finished.slice(0, recentFinished))]
  return (
    <Card title={<>Downloads {active.length > 0 && <Badge tone="accent">{active.length} active</Badge>}</>} id="downloads"
      actions={<>
        {finished.length > recentFinished && (
          <Button size="sm" variant="ghost" onClick={() => setAll(!all)}>{all ? 'Show recent' : `Show all ${list.length}`}</Button>
        )}
        {finished.length > 0 && (
          <Button size="sm" variant="ghost" icon="x" busy={clearing} data-testid="downloads-clear"
            title="Remove finished downloads from this list; downloaded models stay on disk"
            onClick={async () => {
              setClearing(true)
              try {
                await clearFinished()
              } catch (err) {
                toastError(err, 'Could not clear finished downloads')
              } finally {
                setClearing(false)
              }
            }}>Clear finished</Button>
        )}
      </>}>
      <ul class="downloads">
        {shown.map((d) => <DownloadRow key={d.task_id} d={d} />)}
      </ul>
    </Card>
  )
}

function DownloadRow({ d }: { d: Download }) {
  const [busy, setBusy] = useState('')
  const act = async (action: 'pause' | 'resume' | 'cancel') => {
    setBusy(action)
    try {
      await controlDownload(d.task_id, action)
    } catch (err) {
      toastError(err, `Could not ${action} ${d.model_id}`)
    } finally {
      setBusy('')
    }
  }
  const pct = d.status === 'completed' ? 100 : d.percent
  const tone = barTones[d.status]
  const canPause = d.status === 'downloading' || d.status === 'pending'
  const canResume = d.status === 'paused' || d.status === 'failed'
  return (
    <li class="download" data-testid="download" data-model={d.model_id} data-status={d.status}>
      <div class="download-head">
        <span class="mono strong">{d.model_id}</span>
        <StatusBadge status={d.status} />
        <span class="spacer" />
        {canPause && <Button size="sm" icon="pause" busy={busy === 'pause'} onClick={() => act('pause')}>Pause</Button>}
        {canResume && <Button size="sm" icon="play" busy={busy === 'resume'} onClick={() => act('resume')}>Resume</Button>}
        {!isFinal(d.status) || d.status === 'failed'
          ? <Button size="sm" variant="ghost" icon="x" busy={busy === 'cancel'} onClick={() => act('cancel')}>Cancel</Button>
          : null}
      </div>
      <Progress value={pct} tone={tone} label={`Download of ${d.model_id}`} />
      <div class="download-meta muted small">
        <span>{bytes(d.bytes_done)} of {bytes(d.bytes_total)} ({pct.toFixed(pct < 10 && pct > 0 ? 1 : 0)}%)</span>
        {d.status === 'downloading' && d.speed_bps > 0 && <span>{bytes(d.speed_bps)}/s</span>}
        {d.status === 'downloading' && d.eta_seconds > 0 && <span>{duration(d.eta_seconds)} left</span>}
        <span>{d.files.length} files</span>
      </div>
      {d.error && <div class="error-text small">{d.error}</div>}
    </li>
  )
}
