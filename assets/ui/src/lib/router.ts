import { useEffect, useState } from 'preact/hooks'

// A router over the History API: the daemon answers every UI path with index.html,
// so links and reloads of /models or /chat work.

type Listener = () => void
const listeners = new Set<Listener>()

function emit(): void {
  for (const fn of [...listeners]) fn()
}

window.addEventListener('popstate', emit)

export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  emit()
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const fn = () => setPath(location.pathname)
    listeners.add(fn)
    fn()
    return () => {
      listeners.delete(fn)
    }
  }, [])
  return path
}

// linkClick makes an <a href> navigate inside the app, keeping ctrl/cmd-click
// opening a new tab.
export function linkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = (e.currentTarget as HTMLElement).closest('a')
  const href = a?.getAttribute('href')
  if (!href || !href.startsWith('/') || a?.target) return
  e.preventDefault()
  navigate(href)
}
