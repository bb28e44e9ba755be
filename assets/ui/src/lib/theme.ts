import { createStore } from './store'

// The colour scheme follows the system unless the user picked one here.

export type Theme = 'light' | 'dark'
const key = 'mlx-manager.theme'

function stored(): Theme | null {
  try {
    const v = localStorage.getItem(key)
    return v === 'light' || v === 'dark' ? v : null
  } catch {
    return null
  }
}

const media = window.matchMedia('(prefers-color-scheme: dark)')
export const theme = createStore<Theme>(stored() ?? (media.matches ? 'dark' : 'light'))

function apply(t: Theme): void {
  document.documentElement.dataset.theme = t
}

apply(theme.get())
theme.subscribe(apply)
media.addEventListener('change', (e) => {
  if (!stored()) theme.set(e.matches ? 'dark' : 'light')
})

export function toggleTheme(): void {
  const next: Theme = theme.get() === 'dark' ? 'light' : 'dark'
  try {
    localStorage.setItem(key, next)
  } catch {
    // not kept
  }
  theme.set(next)
}
