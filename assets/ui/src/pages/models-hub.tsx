import { useState } from 'preact/hooks'
import { toast, toastError } from '../components/feedback'
import { Icon } from '../components/icons'
import { Badge, Button, Card, Empty, Spinner, Switch } from '../components/ui'
import { api, errorMessage } from '../lib/api'
import { startDownload } from '../lib/downloads'
import { bytes, count, params } from '../lib/format'
import { isFinal, type Download, type SearchResult } from '../lib/types'

// searchTasks are the Hub tasks the search offers (the server's searchTasks):
// chat models, embedding models and rerankers.
const searchTasks: [string, string][] = [
  ['text-generation', 'Chat'],
  ['sentence-similarity', 'Embedding (sentence similarity)'],
  ['feature-extraction', 'Embedding (feature extraction)'],
  ['text-ranking', 'Reranker'],
  ['text-classification', 'Reranker (text classification)'],
]

// HubSearch searches Hugging Face for models this machine can run.
export function HubSearch({ downloads, localIds }: { downloads: Download[]; localIds: Set<string> }) {
  const [query, setQuery] = useState('')
  const [author, setAuthor] = useState('')
  const [maxGB, setMaxGB] = useState('')
  const [task, setTask] = useState('text-generation')
  const [fitsOnly, setFitsOnly] = useState(true)
  const [results, setResults] = useState<SearchResult[] | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  const search = async (e?: Event) => {
    e?.preventDefault()
    setBusy(true)
    setError('')
    const q = new URLSearchParams({ query, limit: '30' })
    if (author.trim()) q.set('author', author.trim())
    if (maxGB.trim()) q.set('max_size_gb', maxGB.trim())
    if (task !== 'text-generation') q.set('pipeline_tag', task)
    try {
      setResults(await api.get<SearchResult[]>(`/api/models/search?${q}`))
    } catch (err) {
      setError(errorMessage(err))
      setResults(null)
    } finally {
      setBusy(false)
    }
  }

  const shown = (results ?? []).filter((r) => !fitsOnly || r.fits !== false)
  const hidden = (results?.length ?? 0) - shown.length
  const activeFor = (id: string) => downloads.find((d) => d.model_id === id && !isFinal(d.status))

  return (
    <Card title="Hugging Face Hub" id="hub">
      <form class="search-bar" onSubmit={search} role="search">
        <div class="input-icon">
          <Icon name="search" />
          <input type="search" placeholder="Search MLX models, e.g. Qwen3 4bit" aria-label="Search the Hub" value={query}
            onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <input class="narrow" placeholder="Author" aria-label="Author" value={author}
          onInput={(e) => setAuthor((e.currentTarget as HTMLInputElement).value)} />
        <input class="narrow" type="number" min="0" step="0.5" placeholder="Max GB" aria-label="Maximum size in GB" value={maxGB}
          onInput={(e) => setMaxGB((e.currentTarget as HTMLInputElement).value)} />
        <select class="narrow" aria-label="Kind of model" value={task}
          onChange={(e) => setTask((e.currentTarget as HTMLSelectElement).value)}>
          {searchTasks.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
        <Button type="submit" variant="primary" busy={busy}>Search</Button>
      </form>
      <div class="filter-row">
        <Switch checked={fitsOnly} onChange={setFitsOnly} label="Only models that fit in memory" />
        {hidden > 0 && <span class="muted small">{hidden} hidden: too large for the memory budget</span>}
      </div>
      {error && <div class="alert alert-bad">{error}</div>}
      {busy && !results && <div class="center"><Spinner label="Searching" /></div>}
      {results && shown.length === 0 && <Empty icon="search" title="No models found">Try another search or turn off the memory filter.</Empty>}
      {shown.length > 0 && (
        <ul class="results">
          {shown.map((r) => <Result key={r.id} r={r} local={localIds.has(r.id) || r.downloaded} active={activeFor(r.id)} />)}
        </ul>
      )}
    </Card>
  )
}

function Result({ r, local, active }: { r: SearchResult; local: boolean; active?: Download }) {
  const [busy, setBusy] = useState(false)
  const start = async () => {
    setBusy(true)
    try {
      await startDownload(r.id)
      toast(`Downloading ${r.id}`, 'info')
    } catch (err) {
      toastError(err, `Could not download ${r.id}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <li class="result" data-testid="hub-result" data-model={r.id}>
      <div class="result-main">
        <div class="result-title">
          <span class="mono strong">{r.id}</span>
          {r.gated && <Badge tone="warn" title="Needs a Hugging Face token with access">gated</Badge>}
          {r.supported === false && <Badge tone="bad" title={r.unsupported_reason}>not supported{r.architecture ? `: ${r.architecture}` : ''}</Badge>}
        </div>
        <div class="result-meta muted small">
          <span title="Downloads"><Icon name="download" size={13} /> {count(r.downloads)}</span>
          <span title="Likes">♥ {count(r.likes)}</span>
          <span>{bytes(r.size_bytes || null)}</span>
          {r.parameters ? <span>{params(r.parameters)} params</span> : null}
          {r.quantization && <span>{r.quantization}</span>}
          {r.estimate_bytes ? <span title="Weights plus KV cache for the default context">needs ~{bytes(r.estimate_bytes)}</span> : null}
          {r.fits === true && <Badge tone="good">fits</Badge>}
          {r.fits === false && <Badge tone="bad">too large</Badge>}
        </div>
      </div>
      <div class="result-actions">
        {local ? <Badge tone="good"><Icon name="check" size={13} /> Downloaded</Badge>
          : active ? <Badge tone="accent">{active.status} {Math.round(active.percent)}%</Badge>
          : <Button size="sm" icon="download" busy={busy} onClick={start}>Download</Button>}
      </div>
    </li>
  )
}
