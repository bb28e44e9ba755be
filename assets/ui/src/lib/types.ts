// Wire types of the daemon's /api (see api/*.go).

import type { components } from './api.gen'

type Schemas = components['schemas']

// Generated from the server's OpenAPI document (api.gen.ts): the Go types are the
// source, and `npm test` fails when the generated file drifts from them. Where Go
// has a plain string the UI switches on, the alias narrows it to its values.

export type User = Schemas['api.userView']
export type TokenResponse = Schemas['api.tokenResponse']
/** An API key; key is only in the answer that creates it. */
export type APIKey = Schemas['api.apiKeyView'] & Partial<Pick<Schemas['api.createdKey'], 'key'>>

export type LocalModel = Schemas['engine.ModelInfo']
export type ImageSettings = Schemas['store.ImageSettings']
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

export type Profile = Schemas['store.Profile']
/** One audit event; status is success, error or cancelled. */
export type AuditEvent = Schemas['store.AuditEvent']
export type AuditStats = Schemas['store.AuditStats']
export type TokenUsage = Schemas['store.TokenUsage']

/** The pool settings document and the limits the pool runs with now. */
export type PoolSettings = Schemas['api.poolSettingsView']
/** Hub settings: whether a token is set, never the token. */
export type HubSettings = Schemas['api.hubSettingsView']

export type RegistrationMode = 'open' | 'invite' | 'closed'

export type AuthSettings = Omit<Schemas['store.AuthSettings'], 'registration'> & { registration?: RegistrationMode }

export type InviteState = 'active' | 'used' | 'expired'

/** An invite link; token and url are only in the answer that creates it. */
export type Invite = Omit<Schemas['api.inviteView'], 'state'> & { state: InviteState } &
  Partial<Pick<Schemas['api.createdInvite'], 'token' | 'url'>>

export type AuditRetention = Schemas['store.AuditRetention']

export type V1Model = Schemas['openai.Model']

export type BackendHealth = Schemas['route.Status']
export type BackendKind = 'openai' | 'anthropic'

export type Backend = Omit<Schemas['api.backendView'], 'kind'> & { kind: BackendKind }

export type RouteTarget = Schemas['store.RouteTarget']
export type RouteRule = Schemas['store.RouteRule']
