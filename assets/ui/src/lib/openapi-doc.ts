// The API docs page's reading of the server's OpenAPI document: operations grouped
// by tag, and each schema as a tree of fields with its $refs resolved.

export interface Schema {
  $ref?: string
  type?: string | string[]
  format?: string
  enum?: unknown[]
  description?: string
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  additionalProperties?: Schema | boolean
  anyOf?: Schema[]
  oneOf?: Schema[]
}

interface MediaType { schema?: Schema }
interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  'x-auth'?: string
  requestBody?: { content?: Record<string, MediaType> }
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>
}

export interface Document {
  openapi: string
  info: { title: string; version: string; description?: string }
  tags?: { name: string }[]
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

export interface Body { status?: string; contentType: string; schema?: Schema }

export interface Op {
  id: string
  method: string
  path: string
  summary: string
  auth: string
  schemes: string[]
  request?: Body
  responses: Body[]
}

export interface Group { tag: string; ops: Op[] }

const methods = ['get', 'head', 'post', 'put', 'patch', 'delete']

// groupOperations lists the operations under their tag, tags in the document's
// order, operations by path then method.
export function groupOperations(doc: Document): Group[] {
  const byTag = new Map<string, Op[]>()
  for (const t of doc.tags ?? []) byTag.set(t.name, [])
  for (const path of Object.keys(doc.paths).sort()) {
    const item = doc.paths[path]
    for (const m of methods) {
      const o = item[m]
      if (!o) continue
      const tag = o.tags?.[0] ?? 'other'
      if (!byTag.has(tag)) byTag.set(tag, [])
      byTag.get(tag)!.push({
        id: o.operationId ?? `${m} ${path}`,
        method: m.toUpperCase(),
        path,
        summary: o.summary ?? '',
        auth: o['x-auth'] ?? ((o.security ?? []).length === 0 ? 'public' : 'signed in'),
        schemes: [...new Set((o.security ?? []).flatMap((r) => Object.keys(r)))],
        request: firstBody(o.requestBody?.content),
        responses: Object.entries(o.responses ?? {})
          .filter(([status]) => status.startsWith('2'))
          .map(([status, r]) => ({ status, ...(firstBody(r.content) ?? { contentType: '' }) })),
      })
    }
  }
  return [...byTag].filter(([, ops]) => ops.length > 0).map(([tag, ops]) => ({ tag, ops }))
}

function firstBody(content?: Record<string, MediaType>): Body | undefined {
  if (!content) return undefined
  const entries = Object.entries(content)
  if (entries.length === 0) return undefined
  // JSON first: a streamed alternative (text/event-stream) has no schema.
  const [contentType, media] = entries.find(([t]) => t === 'application/json') ?? entries[0]
  return { contentType: entries.map(([t]) => t).join(', ') || contentType, schema: media.schema }
}

// A field in a schema tree.
export interface Field {
  name: string
  type: string
  required: boolean
  description?: string
  children: Field[]
  recursive?: boolean // a type met again inside itself: not expanded
}

export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1)
}

function resolve(doc: Document, s: Schema): { schema: Schema; name?: string } {
  if (!s.$ref) return { schema: s }
  const name = refName(s.$ref)
  return { schema: doc.components?.schemas?.[name] ?? {}, name }
}

// typeLabel is a schema's type in a few words: "string", "api.userView",
// "array of integer", "map of number", "pending | ready".
export function typeLabel(doc: Document, s: Schema): string {
  if (s.$ref) return refName(s.$ref)
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  const alts = s.anyOf ?? s.oneOf
  if (alts) return alts.map((a) => typeLabel(doc, a)).join(' | ')
  const t = Array.isArray(s.type) ? s.type.join(' | ') : s.type
  if (t === 'array') return `array of ${s.items ? typeLabel(doc, s.items) : 'any'}`
  if (t === 'object' && !s.properties && typeof s.additionalProperties === 'object') {
    return `map of ${typeLabel(doc, s.additionalProperties)}`
  }
  if (!t) return s.properties ? 'object' : 'any'
  return s.format ? `${t} (${s.format})` : t
}

// fields expands a schema into its fields, following $refs, arrays and maps to the
// object inside; a type already being expanded on the way down stays a leaf.
export function fields(doc: Document, s: Schema, seen: string[] = []): Field[] {
  const { schema, name } = resolve(doc, s)
  if (name && seen.includes(name)) return []
  const path = name ? [...seen, name] : seen
  if (schema.items) return fields(doc, schema.items, path)
  if (typeof schema.additionalProperties === 'object' && !schema.properties) {
    return fields(doc, schema.additionalProperties, path)
  }
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties ?? {}).map(([field, p]) => {
    const inner = innerRef(p)
    const recursive = inner !== undefined && path.includes(inner)
    return {
      name: field,
      type: typeLabel(doc, p),
      required: required.has(field),
      description: p.description ?? resolve(doc, p).schema.description,
      children: recursive ? [] : fields(doc, p, path),
      recursive: recursive || undefined,
    }
  })
}

function innerRef(s: Schema): string | undefined {
  if (s.$ref) return refName(s.$ref)
  if (s.items) return innerRef(s.items)
  if (typeof s.additionalProperties === 'object') return innerRef(s.additionalProperties)
  return undefined
}
