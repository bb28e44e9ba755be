import { describe, expect, it } from 'vitest'
import { kindHint, kindOf } from './kind'

describe('kind', () => {
  it.each([
    [{ kind: 'embedding' }, 'embedding'], [{ kind: 'reranker' }, 'reranker'], [{ kind: 'chat' }, 'chat'],
    [{}, 'chat'], [{ kind: 'something-new' }, 'chat'],
  ])('kindOf(%j) = %j', (m, want) => {
    expect(kindOf(m)).toBe(want)
  })

  it('hints name the endpoint', () => {
    expect(kindHint('embedding')).toContain('/v1/embeddings')
    expect(kindHint('reranker')).toContain('/v1/rerank')
  })
})
