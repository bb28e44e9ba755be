import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite'

const outDir = resolve(import.meta.dirname, 'dist')

// keepDir puts back dist/.keep, which Vite removes when it empties the folder: the Go
// package embeds dist, and `go build` must work before the UI was ever built.
function keepDir(): Plugin {
  return {
    name: 'keep-dist-dir',
    closeBundle() {
      writeFileSync(resolve(outDir, '.keep'), '')
    },
  }
}

export default defineConfig({
  plugins: [keepDir()],
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir,
    emptyOutDir: true,
    target: ['chrome111', 'safari16.4', 'firefox115'],
    chunkSizeWarningLimit: 400,
    reportCompressedSize: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
  server: {
    // `npm run dev` proxies the API to a daemon on the default port.
    proxy: {
      '/api': { target: 'http://127.0.0.1:10242', ws: true },
      '/v1': 'http://127.0.0.1:10242',
      '/health': 'http://127.0.0.1:10242',
    },
  },
})
