import { useEffect, useState } from 'preact/hooks'

// Store is a value that components can follow: the app's shared state (session,
// live pool and download state) without a state library.
export interface Store<T> {
  get(): T
  set(next: T | ((prev: T) => T)): void
  subscribe(fn: (value: T) => void): () => void
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial
  const subs = new Set<(value: T) => void>()
  return {
    get: () => value,
    set(next) {
      const v = typeof next === 'function' ? (next as (prev: T) => T)(value) : next
      if (Object.is(v, value)) return
      value = v
      for (const fn of [...subs]) fn(value)
    },
    subscribe(fn) {
      subs.add(fn)
      return () => subs.delete(fn)
    },
  }
}

// useStore re-renders the component whenever the store changes.
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get)
  useEffect(() => {
    setValue(() => store.get())
    return store.subscribe((v) => setValue(() => v))
  }, [store])
  return value
}
