// Wire types of the daemon's /api (see api/*.go).

import type { components } from './api.gen'

type Schemas = components['schemas']

export interface User {
  id: string
  email: string
  is_admin: boolean
  status: 'pending' | 'approved' | 'disabled'
  created_at: string
  updated_at: string
  last_login_at?: string
}

export interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
}

export interface APIKey {
  id: string
  name: string
  prefix: string
  created_at: string
  last_used_at?: string
  key?: string // only in the answer to create
}

// Generated from the server's OpenAPI document (api.gen.ts): the Go types are the
// source, and `npm test` fails when the generated file drifts from them.
export type LocalModel = Schemas['engine.ModelInfo']
export type SearchResult = Schemas['api.searchResult']
export type Download = Schemas['api.downloadView']
export type DownloadStatus = Download['status']

export function isFinal(s: DownloadStatus): boolean {
  return s === 'completed' || s === 'failed' || s === 'cancelled'
}

export type Memory = Schemas['pool.MemoryStatus']
export type ServerView = Schemas['api.serverView']
export type ServersOverview = Schemas['api.serversOverview']
/** A loaded model's scheduler (requests decoded together) and prefix cache. */
export type Serving = Schemas['api.servingView']

export interface ModelEvent {
  kind: 'loading' | 'ready' | 'error' | 'evicted' | 'unloading' | 'unloaded'
  model: string
  reason?: string
  bytes?: number
  duration_ms?: number
  error?: string
  time: string
}

export interface Profile {
  id: string
  name: string
  model: string
  system_prompt?: string
  temperature?: number
  top_p?: number
  max_tokens?: number
  context_length?: number
  ttl_seconds?: number
  auto_start: boolean
  tool_format?: string
  created_at: string
  updated_at: string
}

export interface AuditEvent {
  id: string
  time: string
  request_id?: string
  action: string
  status: 'success' | 'error' | 'cancelled' | string
  user_id?: string
  user_email?: string
  api_key_id?: string
  client_ip?: string
  model?: string
  endpoint?: string
  target?: string
  detail?: string
  http_status?: number
  duration_ms?: number
  ttft_ms?: number
  prompt_tokens?: number
  completion_tokens?: number
  error_type?: string
  error_message?: string
}

export interface AuditStats {
  total: number
  by_action: Record<string, number>
  by_status: Record<string, number>
  by_model: Record<string, number>
  prompt_tokens: number
  completion_tokens: number
  avg_duration_ms: number
  avg_ttft_ms: number
  tokens_by_user?: Record<string, TokenUsage>
  tokens_by_backend?: Record<string, TokenUsage>
}

export interface TokenUsage {
  requests: number
  prompt_tokens: number
  completion_tokens: number
}

export interface PoolSettings {
  budget: number | string | null
  max_models: number
  default_ttl_seconds: number | null
  eviction_policy: string
  parallel?: number
  effective: {
    budget_bytes: number
    total_ram_bytes: number
    max_models: number
    default_ttl_seconds: number
    parallel: number
  }
}

export interface HubSettings {
  offline: boolean
  token_set: boolean
  endpoint?: string
  live: boolean
}

export type RegistrationMode = 'open' | 'invite' | 'closed'

export interface AuthSettings {
  allow_unauthenticated_loopback: boolean
  registration?: RegistrationMode
}

export interface Invite {
  id: string
  note?: string
  created_by: string
  created_at: string
  expires_at: string
  state: 'active' | 'used' | 'expired'
  used_by?: string
  used_at?: string
  token?: string // only in the answer that creates it
  url?: string
}

export interface AuditRetention {
  retention_days: number
  max_events: number
}

export interface V1Model {
  id: string
  object: string
  created: number
  owned_by: string
}

export interface BackendHealth {
  name: string
  healthy: boolean
  failures: number
  last_error?: string
  checked_at?: string
  retry_at?: string
  discovered?: string[]
}

export interface Backend {
  id: string
  name: string
  kind: 'openai' | 'anthropic'
  base_url: string
  has_key: boolean
  key_last4?: string
  timeout_s: number
  models: string[]
  discover: boolean
  users: string[]
  health: BackendHealth
}

export interface RouteTarget {
  backend: string
  model?: string
}

export interface RouteRule {
  pattern: string
  targets: RouteTarget[]
}
