import { describe, expect, it } from 'vitest'
import { ago, batchText, bytes, count, detailPairs, duration, params, percent, prefixText, ttl } from './format'

describe('format', () => {
  it.each([
    [0, '0 B'], [999, '999 B'], [1000, '1.00 KB'], [1_070_000, '1.07 MB'], [18_500_000, '18.5 MB'],
    [418_000, '418 KB'], [25_276_502_016, '25.3 GB'], [null, '—'], [Number.NaN, '—'],
  ])('bytes(%j) = %j', (n, want) => {
    expect(bytes(n)).toBe(want)
  })

  it.each([
    [0, '0s'], [42.9, '42s'], [60, '1m'], [192, '3m 12s'], [1800, '30m'], [3840, '1h 4m'], [7200, '2h'],
    [200_000, '2d 7h'], [-1, '—'], [null, '—'],
  ])('duration(%j) = %j', (s, want) => {
    expect(duration(s)).toBe(want)
  })

  it.each([[null, 'default'], [-1, 'forever'], [0, 'after each request'], [1800, '30m']])('ttl(%j) = %j', (s, want) => {
    expect(ttl(s)).toBe(want)
  })

  it.each([[260_000, '260K'], [624_000, '624K'], [600_000_000, '600M'], [7_600_000_000, '7.6B'], [0, '—']])(
    'params(%j) = %j', (n, want) => {
      expect(params(n)).toBe(want)
    })

  it('counts', () => {
    expect(count(56)).toBe('56')
    expect(count(1234)).toBe('1.2k')
    expect(count(2_500_000)).toBe('2.5M')
  })

  it('clamps percentages', () => {
    expect(percent(5, 0)).toBe(0)
    expect(percent(50, 200)).toBe(25)
    expect(percent(300, 200)).toBe(100)
  })

  it('says how long ago', () => {
    const now = Date.parse('2026-01-02T12:00:00Z')
    expect(ago('2026-01-02T11:57:00Z', now)).toMatch(/3 minutes ago/)
    expect(ago(undefined, now)).toBe('—')
    expect(ago('not a date', now)).toBe('—')
  })
})

describe('detailPairs', () => {
  it('reads a JSON object', () => {
    expect(detailPairs('{"budget":"70%","max_models":2,"default_ttl_seconds":null,"x":{"a":1}}')).toEqual([
      ['budget', '70%'], ['max_models', '2'], ['default_ttl_seconds', '—'], ['x', '{"a":1}'],
    ])
  })
  it('reads key=value words', () => {
    expect(detailPairs('retention_days=30 max_events=0')).toEqual([['retention_days', '30'], ['max_events', '0']])
  })
  it('leaves names and sentences alone', () => {
    expect(detailPairs('laptop editor')).toBeNull()
    expect(detailPairs('freed 12 bytes')).toBeNull()
    expect(detailPairs('[1,2]')).toBeNull()
    expect(detailPairs('{not json')).toBeNull()
  })
})

describe('serving', () => {
  const v = { slots: 4, running: 4, waiting: 3, batch_size: 4, mean_batch: 3.5, prefix_hit_rate: 0.667, prefix_cached_tokens: 900, prefix_sequences: 2, prefix_kv_bytes: 0 }
  it('says how many requests run, wait and share a step', () => {
    expect(batchText(v)).toBe('4 of 4 running (+3 waiting), batch 4')
    expect(batchText({ ...v, running: 1, waiting: 0, batch_size: 1 })).toBe('1 of 4 running, batch 1')
  })
  it('gives the prefix hit rate, and KV bytes only when the executor reports them', () => {
    expect(prefixText(v)).toBe('67% hits, 2 kept')
    expect(prefixText({ ...v, prefix_kv_bytes: 12_500_000 })).toBe('67% hits, 2 kept, 12.5 MB')
  })
})
