import { useEffect, useState } from 'preact/hooks'
import { Badge, Card, Empty, PageHeader, Spinner } from '../components/ui'
import { errorFrom } from '../lib/api'
import { fields, groupOperations, typeLabel, type Body, type Document, type Field, type Group, type Op } from '../lib/openapi-doc'

// ApiDocsPage shows the server's own OpenAPI document (GET /api/openapi.json), so
// it describes exactly the routes this build serves.
export function ApiDocsPage() {
  const [doc, setDoc] = useState<Document | null>(null)
  const [error, setError] = useState('')
  const [filter, setFilter] = useState('')
  useEffect(() => {
    const ctl = new AbortController()
    fetch('/api/openapi.json', { signal: ctl.signal })
      .then(async (res) => {
        if (!res.ok) throw await errorFrom(res)
        setDoc(await res.json())
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') setError(err.message)
      })
    return () => ctl.abort()
  }, [])

  if (error) return <div class="page"><PageHeader title="API" /><div class="alert alert-bad">{error}</div></div>
  if (!doc) return <div class="page"><Spinner label="Loading the API description" /></div>
  const q = filter.trim().toLowerCase()
  const groups: Group[] = groupOperations(doc)
    .map((g) => ({ ...g, ops: g.ops.filter((o) => !q || `${o.method} ${o.path} ${o.summary} ${g.tag}`.toLowerCase().includes(q)) }))
    .filter((g) => g.ops.length > 0)
  return (
    <div class="page api-docs">
      <PageHeader title="API" subtitle={<>
        {doc.info.title} {doc.info.version} · OpenAPI {doc.openapi} · <a href="/api/openapi.json" target="_blank" rel="noopener">openapi.json</a>
      </>}>
        <input type="search" placeholder="Filter operations" value={filter} aria-label="Filter operations"
          onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
      </PageHeader>
      <p class="muted small">
        Send a session token or an API key (Settings → API keys) as <span class="mono">Authorization: Bearer …</span>;
        Anthropic clients may send the key as <span class="mono">x-api-key</span>. Event streams and WebSockets
        take <span class="mono">?token=</span> instead.
      </p>
      {groups.length === 0 && <Empty icon="search" title="No operation matches" />}
      {groups.map((g) => (
        <Card key={g.tag} title={g.tag} id={`tag-${g.tag}`}>
          <ul class="api-ops">
            {g.ops.map((o) => <OpRow key={o.id} op={o} doc={doc} />)}
          </ul>
        </Card>
      ))}
    </div>
  )
}

const methodTone = { GET: 'info', HEAD: 'neutral', POST: 'good', PUT: 'warn', PATCH: 'warn', DELETE: 'bad' } as const

function OpRow({ op, doc }: { op: Op; doc: Document }) {
  return (
    <li>
      <details class="api-op" data-testid={op.id}>
        <summary>
          <Badge tone={methodTone[op.method as keyof typeof methodTone] ?? 'neutral'}>{op.method}</Badge>
          <span class="mono api-path">{op.path}</span>
          <span class="api-summary">{op.summary}</span>
          <Badge tone={op.auth === 'public' ? 'neutral' : 'accent'} title={op.schemes.join(', ') || 'no credentials'}>{op.auth}</Badge>
        </summary>
        <div class="api-op-body">
          {op.request ? <BodyView title="Request body" body={op.request} doc={doc} /> : <p class="muted small">No request body.</p>}
          {op.responses.map((r) => <BodyView key={r.status} title={`Response ${r.status}`} body={r} doc={doc} />)}
        </div>
      </details>
    </li>
  )
}

function BodyView({ title, body, doc }: { title: string; body: Body; doc: Document }) {
  const tree = body.schema ? fields(doc, body.schema) : []
  return (
    <div class="api-body">
      <h3 class="small">
        {title}
        {body.contentType && <span class="muted"> · {body.contentType}</span>}
        {body.schema && <span class="mono"> · {typeLabel(doc, body.schema)}</span>}
      </h3>
      {tree.length > 0 && <FieldTree fields={tree} />}
    </div>
  )
}

function FieldTree({ fields }: { fields: Field[] }) {
  return (
    <ul class="api-tree">
      {fields.map((f) => (
        <li key={f.name}>
          <span class="mono">{f.name}</span>
          {f.required && <span class="api-req" title="always present / required">*</span>}
          <span class="muted mono small"> {f.type}{f.recursive ? ' (see above)' : ''}</span>
          {f.description && <span class="muted small"> — {f.description}</span>}
          {f.children.length > 0 && <FieldTree fields={f.children} />}
        </li>
      ))}
    </ul>
  )
}
