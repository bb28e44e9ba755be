import { describe, expect, it } from 'vitest'
import { formatBudget, parseBudget } from './budget'

describe('parseBudget', () => {
  it.each([
    ['', null],
    ['  ', null],
    ['70%', '70%'],
    ['12.5 %', '12.5%'],
    ['16 GB', 16e9],
    ['16gb', 16e9],
    ['12GiB', 12 * 1024 ** 3],
    ['512 MiB', 512 * 1024 ** 2],
    ['1.5 tb', 1.5e12],
    ['8589934592', 8589934592],
    ['100 b', 100],
  ])('%j', (input, want) => {
    expect(parseBudget(input)).toEqual(want)
  })

  it.each(['lots', '-5 GB', '16 GX', '70%%', 'GB'])('refuses %j', (input) => {
    expect(parseBudget(input)).toBeInstanceOf(Error)
  })
})

describe('formatBudget', () => {
  it.each([16e9, 12 * 1024 ** 3, 3e12, 512 * 1024 ** 2, 123456789, 18957376512])('round-trips %d bytes', (n) => {
    expect(parseBudget(formatBudget(n))).toBe(n)
  })
  it('keeps percentages and the default', () => {
    expect(formatBudget('70%')).toBe('70%')
    expect(formatBudget(null)).toBe('')
  })
})
