import { describe, expect, it } from 'vitest'
import { fields, groupOperations, typeLabel, type Document } from './openapi-doc'
import committed from './openapi.json'

const doc = committed as unknown as Document

describe('openapi-doc', () => {
  it('groups every operation of the committed document under its tag', () => {
    const groups = groupOperations(doc)
    const count = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0)
    expect(groups.reduce((n, g) => n + g.ops.length, 0)).toBe(count)
    expect(groups[0].tag).toBe('health')
    const dl = groups.find((g) => g.tag === 'downloads')!.ops.find((o) => o.method === 'POST' && o.path === '/api/models/download')!
    expect(dl.summary).toMatch(/download/i)
    expect(dl.auth).toBe('user')
    expect(dl.schemes).toEqual(['bearer', 'apiKeyHeader'])
    expect(dl.request?.schema?.$ref).toBe('#/components/schemas/api.downloadRequest')
    expect(dl.responses[0].status).toBe('202')
    const progress = groups.find((g) => g.tag === 'downloads')!.ops.find((o) => o.path.endsWith('/progress'))!
    expect(progress.schemes).toContain('queryToken')
    const health = groups[0].ops.find((o) => o.path === '/health' && o.method === 'GET')!
    expect(health.auth).toBe('public')
    expect(health.schemes).toEqual([])
  })

  it('expands a response into its fields, through arrays and $refs', () => {
    const overview = fields(doc, { $ref: '#/components/schemas/api.serversOverview' })
    const servers = overview.find((f) => f.name === 'servers')!
    expect(servers.type).toBe('array of api.serverView')
    expect(servers.required).toBe(true)
    const state = servers.children.find((f) => f.name === 'state')!
    expect(state.type).toBe('"pending" | "loading" | "ready" | "unloading"')
    const last = servers.children.find((f) => f.name === 'last_request')!
    expect(last.required).toBe(false)
    expect(last.children.map((f) => f.name).sort()).toEqual(['finished_at', 'tokens_per_second'])
    expect(typeLabel(doc, { type: 'object', additionalProperties: { type: 'integer' } })).toBe('map of integer')
  })

  it('stops at a type met again inside itself', () => {
    const d: Document = {
      openapi: '3.1.0', info: { title: 't', version: '0' }, paths: {},
      components: { schemas: { 'x.Node': { type: 'object', properties: { next: { $ref: '#/components/schemas/x.Node' }, v: { type: 'string' } } } } },
    }
    const f = fields(d, { $ref: '#/components/schemas/x.Node' })
    expect(f.map((x) => x.name)).toEqual(['next', 'v'])
    expect(f[0].recursive).toBe(true)
    expect(f[0].children).toEqual([])
  })
})
