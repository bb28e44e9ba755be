package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/api/openai"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// authKind is who may call a route, as the OpenAPI document states it. The
// middleware chains in routes.go are function values that cannot be inspected, so
// the table says it, and TestOpenAPIAuthMatchesRouteAccess holds it to
// security_test.go's routeAccess, which is checked against the real server.
type authKind int

const (
	authPublic     authKind = iota
	authUser                // Authorization: Bearer (session token or API key)
	authAdmin               // authUser, and the user is an administrator
	authQueryToken          // authUser, or ?token= (EventSource and WebSocket)
	authV1                  // Bearer or x-api-key; per-key quota applies
	authV1Admin             // authV1, and the user is an administrator
	authServerCtl           // authUser; administrators, or users when users_control_servers is on
	authScrape              // authUser; administrators or any API key
)

// apiOp documents one route: the table below has one per route the server
// registers, and TestOpenAPICoversEveryRoute fails on a route without one.
type apiOp struct {
	tag     string
	summary string
	auth    authKind
	req     any    // the JSON body's type (a zero value); nil: no body
	resp    any    // the 2xx JSON answer's type; nil: no JSON body
	status  int    // the success status; 0 means 200
	stream  string // the content type of a streamed answer, when the request can ask for one
	resType string // the answer's content type when it is not JSON (resp is then nil)
}

// noBody marks an answer with no body worth a schema (204, or a status only).
type noBody struct{}

// cleared is the answer of the routes that clear a list.
type cleared struct {
	Cleared int `json:"cleared"`
}

// The tags, in the order the docs page shows them.
var openAPITags = []string{"health", "auth", "users", "audit", "settings", "models", "downloads", "servers", "profiles", "backends", "openai", "anthropic", "ollama", "tokenize", "metrics"}

// openAPIOps is keyed like routeAccess: "METHOD /echo/path".
var openAPIOps = map[string]apiOp{
	"GET /health":       {tag: "health", summary: "Liveness: the server answers, with its version and kernels", resp: healthResponse{}},
	"HEAD /health":      {tag: "health", summary: "Liveness without a body"},
	"GET /health/ready": {tag: "health", summary: "Readiness: store, engine and server checks (503 when one fails)", resp: readiness{}},
	"GET /metrics":      {tag: "metrics", summary: "Prometheus metrics", auth: authScrape, resType: "text/plain; version=0.0.4"},

	"POST /api/auth/register":                 {tag: "auth", summary: "Create an account (the first one is the administrator; later ones follow the registration mode)", req: credentialsJSON{}, resp: userView{}, status: http.StatusCreated},
	"POST /api/auth/login":                    {tag: "auth", summary: "Sign in: a session token (JWT)", req: credentialsJSON{}, resp: tokenResponse{}},
	"GET /api/auth/me":                        {tag: "auth", summary: "The signed-in user", auth: authUser, resp: userView{}},
	"POST /api/auth/api-keys":                 {tag: "auth", summary: "Create an API key (its secret is shown once)", auth: authUser, req: apiKeyRequest{}, resp: createdKey{}, status: http.StatusCreated},
	"GET /api/auth/api-keys":                  {tag: "auth", summary: "The user's API keys", auth: authUser, resp: []apiKeyView{}},
	"DELETE /api/auth/api-keys/:id":           {tag: "auth", summary: "Revoke an API key", auth: authUser, status: http.StatusNoContent},
	"GET /api/auth/users":                     {tag: "users", summary: "All users", auth: authAdmin, resp: []userView{}},
	"GET /api/auth/users/pending/count":       {tag: "users", summary: "How many accounts wait for approval", auth: authAdmin, resp: map[string]int{}},
	"PUT /api/auth/users/:id":                 {tag: "users", summary: "Approve, disable or promote a user", auth: authAdmin, req: userUpdate{}, resp: userView{}},
	"DELETE /api/auth/users/:id":              {tag: "users", summary: "Delete a user", auth: authAdmin, status: http.StatusNoContent},
	"POST /api/auth/users/:id/reset-password": {tag: "users", summary: "Reset a user's password to a generated one", auth: authAdmin, resp: resetResponse{}},
	"GET /api/auth/lockouts":                  {tag: "users", summary: "Active sign-in lockouts", auth: authAdmin, resp: []auth.ActiveLock{}},
	"DELETE /api/auth/users/:id/lockouts":     {tag: "users", summary: "Clear a user's sign-in lockouts", auth: authAdmin, resp: cleared{}},
	"POST /api/auth/invites":                  {tag: "users", summary: "Create an invite link", auth: authAdmin, req: inviteRequest{}, resp: createdInvite{}, status: http.StatusCreated},
	"GET /api/auth/invites":                   {tag: "users", summary: "Invites", auth: authAdmin, resp: []inviteView{}},
	"DELETE /api/auth/invites/:id":            {tag: "users", summary: "Revoke an invite", auth: authAdmin, status: http.StatusNoContent},

	"GET /api/system/audit-logs":        {tag: "audit", summary: "Audit events, newest first, a page at a time (filters in the query)", auth: authUser, resp: auditPage{}},
	"GET /api/system/audit-logs/stats":  {tag: "audit", summary: "Counts of the matching audit events", auth: authUser, resp: store.AuditStats{}},
	"GET /api/system/audit-logs/export": {tag: "audit", summary: "Every matching event as CSV (format=csv) or JSON lines (format=jsonl)", auth: authUser, resType: "application/x-ndjson"},
	"GET /api/system/ws/audit-logs":     {tag: "audit", summary: "WebSocket of new audit events", auth: authQueryToken, status: http.StatusSwitchingProtocols},
	"GET /api/settings/auth":            {tag: "settings", summary: "Registration and sign-in settings", auth: authAdmin, resp: authSettings{}},
	"PUT /api/settings/auth":            {tag: "settings", summary: "Change registration and sign-in settings", auth: authAdmin, req: authSettings{}, resp: authSettings{}},
	"GET /api/settings/audit":           {tag: "settings", summary: "Audit log retention", auth: authAdmin, resp: store.AuditRetention{}},
	"PUT /api/settings/audit":           {tag: "settings", summary: "Change audit log retention", auth: authAdmin, req: store.AuditRetention{}, resp: store.AuditRetention{}},

	"GET /api/models/search":                     {tag: "models", summary: "Search the Hugging Face hub for models this engine runs", auth: authUser, resp: []searchResult{}},
	"GET /api/models/local":                      {tag: "models", summary: "Downloaded models", auth: authUser, resp: []engine.ModelInfo{}},
	"GET /api/models/config/:org/:name":          {tag: "models", summary: "A model's architecture and memory estimate, local or from the hub", auth: authUser, resp: configView{}},
	"DELETE /api/models/:org/:name":              {tag: "models", summary: "Delete a downloaded model", auth: authAdmin, resp: engine.DeleteResult{}},
	"POST /api/models/local":                     {tag: "models", summary: "Register a local model folder as local/<name>", auth: authAdmin, req: localModelRequest{}, resp: engine.ModelInfo{}, status: http.StatusCreated},
	"POST /api/models/download":                  {tag: "downloads", summary: "Start downloading a model", auth: authUser, req: downloadRequest{}, resp: downloadView{}, status: http.StatusAccepted},
	"GET /api/models/downloads":                  {tag: "downloads", summary: "Downloads and their progress", auth: authUser, resp: []downloadView{}},
	"DELETE /api/models/downloads":               {tag: "downloads", summary: "Forget finished, failed and cancelled downloads", auth: authUser, resp: cleared{}},
	"GET /api/models/download/:task_id/progress": {tag: "downloads", summary: "Server-sent events of one download's progress", auth: authQueryToken, resType: "text/event-stream", resp: downloadView{}},
	"POST /api/models/download/:id/pause":        {tag: "downloads", summary: "Pause a download", auth: authUser, resp: downloadView{}},
	"POST /api/models/download/:id/resume":       {tag: "downloads", summary: "Resume a paused or failed download", auth: authUser, resp: downloadView{}},
	"POST /api/models/download/:id/cancel":       {tag: "downloads", summary: "Cancel a download and delete its partial files", auth: authUser, resp: downloadView{}},
	"GET /api/settings/hub":                      {tag: "settings", summary: "Hub settings (offline mode, whether a token is set)", auth: authAdmin, resp: hubSettingsView{}},
	"PUT /api/settings/hub":                      {tag: "settings", summary: "Change hub settings", auth: authAdmin, req: hubSettingsRequest{}, resp: hubSettingsView{}},
	"GET /api/settings/images":                   {tag: "settings", summary: "Image settings (whether chat image URLs are fetched)", auth: authAdmin, resp: store.ImageSettings{}},
	"PUT /api/settings/images":                   {tag: "settings", summary: "Change image settings", auth: authAdmin, req: store.ImageSettings{}, resp: store.ImageSettings{}},

	"GET /api/servers":                   {tag: "servers", summary: "Models in memory and the pool's memory", auth: authUser, resp: serversOverview{}},
	"GET /api/servers/models":            {tag: "servers", summary: "Models in memory", auth: authUser, resp: []serverView{}},
	"GET /api/servers/memory":            {tag: "servers", summary: "The pool's memory", auth: authUser, resp: engine.MemoryStatus{}},
	"GET /api/servers/events":            {tag: "servers", summary: "Server-sent events of loads, unloads and evictions", auth: authQueryToken, resType: "text/event-stream"},
	"POST /api/servers/start":            {tag: "servers", summary: "Load a model or a profile's model", auth: authServerCtl, req: serverRequest{}, resp: serverView{}},
	"POST /api/servers/stop":             {tag: "servers", summary: "Unload a model", auth: authServerCtl, req: serverRequest{}, resp: map[string]any{}},
	"POST /api/servers/:org/:name/pin":   {tag: "servers", summary: "Pin a loaded model: never evicted", auth: authServerCtl, resp: serverView{}},
	"POST /api/servers/:org/:name/unpin": {tag: "servers", summary: "Unpin a loaded model", auth: authServerCtl, resp: serverView{}},
	"GET /api/settings/pool":             {tag: "settings", summary: "Memory pool settings and their effect", auth: authAdmin, resp: poolSettingsView{}},
	"PUT /api/settings/pool":             {tag: "settings", summary: "Change memory pool settings", auth: authAdmin, req: store.PoolSettings{}, resp: poolSettingsView{}},
	"GET /api/profiles":                  {tag: "profiles", summary: "Profiles (a model with default settings)", auth: authUser, resp: []store.Profile{}},
	"POST /api/profiles":                 {tag: "profiles", summary: "Create a profile", auth: authUser, req: profileRequest{}, resp: store.Profile{}, status: http.StatusCreated},
	"GET /api/profiles/:id":              {tag: "profiles", summary: "A profile", auth: authUser, resp: store.Profile{}},
	"PUT /api/profiles/:id":              {tag: "profiles", summary: "Change a profile", auth: authUser, req: profileRequest{}, resp: store.Profile{}},
	"DELETE /api/profiles/:id":           {tag: "profiles", summary: "Delete a profile", auth: authUser, status: http.StatusNoContent},
	"POST /api/profiles/:id/duplicate":   {tag: "profiles", summary: "Copy a profile under a new name", auth: authUser, resp: store.Profile{}, status: http.StatusCreated},
	"GET /api/backends":                  {tag: "backends", summary: "Remote OpenAI-compatible backends", auth: authAdmin, resp: []backendView{}},
	"POST /api/backends":                 {tag: "backends", summary: "Add a remote backend", auth: authAdmin, req: backendBody{}, resp: backendView{}, status: http.StatusCreated},
	"POST /api/backends/probe":           {tag: "backends", summary: "Probe every backend's health and models now", auth: authAdmin, resp: []backendView{}},
	"PUT /api/backends/:id":              {tag: "backends", summary: "Change a remote backend", auth: authAdmin, req: backendBody{}, resp: backendView{}},
	"DELETE /api/backends/:id":           {tag: "backends", summary: "Remove a remote backend", auth: authAdmin, status: http.StatusNoContent},
	"GET /api/settings/routing":          {tag: "settings", summary: "Rules sending models to backends", auth: authAdmin, resp: routingSettings{}},
	"PUT /api/settings/routing":          {tag: "settings", summary: "Change the routing rules", auth: authAdmin, req: routingSettings{}, resp: routingSettings{}},
	"GET /v1/models":                     {tag: "openai", summary: "Models: downloaded ones, profiles and remote backends' (OpenAI)", auth: authV1, resp: openai.ModelList{}},
	"GET /v1/models/*":                   {tag: "openai", summary: "One model (the id holds a slash: org/name)", auth: authV1, resp: openai.Model{}},
	"POST /v1/chat/completions":          {tag: "openai", summary: "Chat completion (OpenAI); stream: true answers server-sent chunks", auth: authV1, req: openai.ChatRequest{}, resp: openai.ChatCompletion{}, stream: "text/event-stream"},
	"POST /v1/completions":               {tag: "openai", summary: "Text completion (OpenAI legacy)", auth: authV1, req: openai.CompletionRequest{}, resp: openai.TextCompletion{}, stream: "text/event-stream"},
	"POST /v1/embeddings":                {tag: "openai", summary: "Embeddings (OpenAI)", auth: authV1, req: openai.EmbeddingRequest{}, resp: openai.EmbeddingList{}},
	"POST /v1/rerank":                    {tag: "openai", summary: "Rerank documents against a query with a cross-encoder (Jina/Cohere form)", auth: authV1, req: openai.RerankRequest{}, resp: openai.RerankList{}},
	"POST /rerank":                       {tag: "openai", summary: "Rerank, at the path llama-server and Jina clients use", auth: authV1, req: openai.RerankRequest{}, resp: openai.RerankList{}},
	"POST /v1/responses":                 {tag: "openai", summary: "Create a response (OpenAI Responses API)", auth: authV1, req: openai.ResponsesRequest{}, resp: openai.Response{}, stream: "text/event-stream"},
	"GET /v1/responses/:id":              {tag: "openai", summary: "A stored response", auth: authV1, resp: openai.Response{}},
	"DELETE /v1/responses/:id":           {tag: "openai", summary: "Delete a stored response", auth: authV1, resp: map[string]any{}},
	"POST /v1/messages":                  {tag: "anthropic", summary: "Messages (Anthropic); stream: true answers server-sent events", auth: authV1, req: openai.MessagesRequest{}, resp: openai.MessageResponse{}, stream: "text/event-stream"},
	"POST /v1/messages/count_tokens":     {tag: "anthropic", summary: "Count a Messages request's input tokens (Anthropic)", auth: authV1, req: openai.MessagesRequest{}, resp: map[string]int{}},
	"GET /api/version":                   {tag: "ollama", summary: "Version (Ollama)", auth: authV1, resp: ollama.VersionResponse{}},
	"HEAD /api/version":                  {tag: "ollama", summary: "Version without a body (Ollama)", auth: authV1},
	"GET /api/tags":                      {tag: "ollama", summary: "Local models (Ollama)", auth: authV1, resp: ollama.ListResponse{}},
	"POST /api/show":                     {tag: "ollama", summary: "A model's details (Ollama)", auth: authV1, req: ollama.ShowRequest{}, resp: ollama.ShowResponse{}},
	"GET /api/ps":                        {tag: "ollama", summary: "Models in memory (Ollama)", auth: authV1, resp: ollama.ProcessResponse{}},
	"POST /api/chat":                     {tag: "ollama", summary: "Chat (Ollama); streams NDJSON unless stream: false", auth: authV1, req: ollama.ChatRequest{}, resp: ollama.ChatResponse{}, stream: "application/x-ndjson"},
	"POST /api/generate":                 {tag: "ollama", summary: "Generate (Ollama); streams NDJSON unless stream: false", auth: authV1, req: ollama.GenerateRequest{}, resp: ollama.GenerateResponse{}, stream: "application/x-ndjson"},
	"POST /api/embed":                    {tag: "ollama", summary: "Embeddings (Ollama)", auth: authV1, req: ollama.EmbedRequest{}, resp: ollama.EmbedResponse{}},
	"POST /api/embeddings":               {tag: "ollama", summary: "One embedding (Ollama's older endpoint)", auth: authV1, resp: map[string][]float32{}},
	"DELETE /api/delete":                 {tag: "ollama", summary: "Delete a model (Ollama)", auth: authV1Admin, req: ollama.DeleteRequest{}},
	"POST /api/copy":                     {tag: "ollama", summary: "Copy a model under a new name: a profile (Ollama)", auth: authV1, req: ollama.CopyRequest{}},
	"POST /api/pull":                     {tag: "ollama", summary: "Download a model (Ollama); streams NDJSON progress unless stream: false", auth: authV1, req: ollama.PullRequest{}, resp: ollama.ProgressResponse{}, stream: "application/x-ndjson"},
	"POST /tokenize":                     {tag: "tokenize", summary: "Text to token ids (llama-server)", auth: authV1, req: tokenizeRequest{}, resp: map[string]any{}},
	"POST /detokenize":                   {tag: "tokenize", summary: "Token ids to text (llama-server)", auth: authV1, req: detokenizeRequest{}, resp: map[string]string{}},
	"POST /apply-template":               {tag: "tokenize", summary: "A chat request through the model's template (llama-server)", auth: authV1, req: openai.ChatRequest{}, resp: map[string]string{}},
	"POST /v1/tokenize":                  {tag: "tokenize", summary: "Text to token ids (llama-server)", auth: authV1, req: tokenizeRequest{}, resp: map[string]any{}},
	"POST /v1/detokenize":                {tag: "tokenize", summary: "Token ids to text (llama-server)", auth: authV1, req: detokenizeRequest{}, resp: map[string]string{}},
	"POST /v1/apply-template":            {tag: "tokenize", summary: "A chat request through the model's template (llama-server)", auth: authV1, req: openai.ChatRequest{}, resp: map[string]string{}},
	"GET /api/openapi.json":              {tag: "health", summary: "This document (OpenAPI 3.1)", resType: "application/json"},
}

// undocumented reports the routes that are not API operations: the catch-alls
// answering unknown /api and /v1 paths, and the web app's files.
func undocumented(r *echo.Route) bool {
	return r.Method == echo.RouteNotFound || r.Path == "/*"
}

// openAPIPath turns echo's path into OpenAPI's: :id → {id}; the trailing * of
// /v1/models/* (an id holding a slash) → {model}.
func openAPIPath(p string) (path string, params []string) {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		switch {
		case strings.HasPrefix(s, ":"):
			params = append(params, s[1:])
			parts[i] = "{" + s[1:] + "}"
		case s == "*":
			params = append(params, "model")
			parts[i] = "{model}"
		}
	}
	return strings.Join(parts, "/"), params
}

// schemaName names a Go type's schema after its package, so that api.userView
// and openai.Model cannot collide.
func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return t.Name()
	}
	return pkg + "." + t.Name()
}

// openAPIEnums gives the named string types on the wire their values, which
// reflection cannot see: the UI switches on them, so its types must list them.
var openAPIEnums = map[reflect.Type][]any{
	reflect.TypeFor[engine.DownloadStatus](): {engine.DownloadPending, engine.DownloadDownloading, engine.DownloadPaused,
		engine.DownloadVerifying, engine.DownloadCompleted, engine.DownloadFailed, engine.DownloadCancelled},
	reflect.TypeFor[engine.ModelState](): {engine.StatePending, engine.StateLoading, engine.StateReady, engine.StateUnloading},
	reflect.TypeFor[store.UserStatus]():  {store.StatusPending, store.StatusApproved, store.StatusDisabled},
}

// openAPICustom are the types with their own JSON form (a MarshalJSON), which
// reflection would describe by their Go fields.
var openAPICustom = map[reflect.Type]func() *jsonschema.Schema{
	// A number of bytes, or a percentage of RAM such as "70%".
	reflect.TypeFor[store.Budget](): func() *jsonschema.Schema {
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string", Pattern: `^\s*[0-9.]+\s*%\s*$`}}}
	},
}

func enumSchema(t reflect.Type) *jsonschema.Schema {
	if vals, ok := openAPIEnums[t]; ok {
		return &jsonschema.Schema{Type: "string", Enum: vals}
	}
	if custom, ok := openAPICustom[t]; ok {
		return custom()
	}
	return nil
}

// openAPIBuilder reflects the types twice over. In an answer, a field without
// omitempty is always sent, so it is required; a request needs none of them (the
// handlers say what is missing), so request schemas require nothing, and a type met
// in both places has its request form named apart (api.authSettingsInput).
type openAPIBuilder struct {
	answer, request *jsonschema.Reflector
	answers         map[reflect.Type]bool // named types met in answers
	schemas         map[string]*jsonschema.Schema
}

func newOpenAPIBuilder() *openAPIBuilder {
	b := &openAPIBuilder{answers: map[reflect.Type]bool{}, schemas: map[string]*jsonschema.Schema{}}
	b.answer = &jsonschema.Reflector{
		Namer: func(t reflect.Type) string {
			b.answers[t] = true
			return schemaName(t)
		},
		Mapper:                    enumSchema,
		AllowAdditionalProperties: true,
	}
	b.request = &jsonschema.Reflector{
		Namer: func(t reflect.Type) string {
			if b.answers[t] && t.Name() != "" {
				return schemaName(t) + "Input"
			}
			return schemaName(t)
		},
		Mapper:                     enumSchema,
		AllowAdditionalProperties:  true,
		RequiredFromJSONSchemaTags: true, // no such tags: nothing required
	}
	return b
}

// schema reflects v's type with r, moves its definitions to components/schemas
// and returns the schema to put in the operation (a $ref for named types).
func (b *openAPIBuilder) schema(r *jsonschema.Reflector, v any) *jsonschema.Schema {
	s := r.ReflectFromType(reflect.TypeOf(v))
	for name, d := range s.Definitions {
		b.schemas[name] = d
	}
	s.Definitions = nil
	s.Version = ""
	s.ID = ""
	return s
}

// OpenAPI builds the OpenAPI 3.1 document of the routes e serves, from openAPIOps.
// A route missing from the table is an error (the tests keep the table whole).
func OpenAPI(e *echo.Echo, version string) ([]byte, error) {
	b := newOpenAPIBuilder()
	// Answers first, so that every type an answer uses is known before a request's
	// form is named.
	for _, r := range e.Routes() {
		if o, ok := openAPIOps[r.Method+" "+r.Path]; ok && o.resp != nil {
			b.schema(b.answer, o.resp)
		}
	}
	paths := map[string]map[string]any{}
	var missing []string
	for _, r := range e.Routes() {
		if undocumented(r) || strings.HasPrefix(r.Path, "/api/test/") {
			continue
		}
		key := r.Method + " " + r.Path
		o, ok := openAPIOps[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		path, params := openAPIPath(r.Path)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(r.Method)] = b.operation(r.Method+" "+path, o, params)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("openapi: routes without an entry in openAPIOps (api/openapi.go): %s", strings.Join(missing, ", "))
	}
	tags := make([]map[string]string, 0, len(openAPITags))
	for _, t := range openAPITags {
		tags = append(tags, map[string]string{"name": t})
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "MLX Manager",
			"version":     version,
			"description": "The daemon's management API (/api), its OpenAI, Anthropic, Ollama and llama-server compatible APIs, and health. Errors are each protocol's own error JSON.",
		},
		"tags":  tags,
		"paths": paths,
		"components": map[string]any{
			"schemas": b.schemas,
			"securitySchemes": map[string]any{
				"bearer":       map[string]any{"type": "http", "scheme": "bearer", "description": "A session token (JWT from POST /api/auth/login) or an API key (mlx_...)."},
				"apiKeyHeader": map[string]any{"type": "apiKey", "in": "header", "name": "x-api-key", "description": "An API key, as Anthropic's SDKs send it."},
				"queryToken":   map[string]any{"type": "apiKey", "in": "query", "name": "token", "description": "A session token or API key in the query, for EventSource and WebSocket, which cannot send headers."},
			},
		},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	// invopop/jsonschema refers to $defs; the document keeps them in components.
	out = []byte(strings.ReplaceAll(string(out), `"#/$defs/`, `"#/components/schemas/`))
	return append(out, '\n'), nil
}

// security lists the schemes a route takes; x-api-key is read on every
// authenticated route (credential in authmw.go), ?token= only where allowed.
func security(a authKind) []map[string][]string {
	bearer := []map[string][]string{{"bearer": {}}, {"apiKeyHeader": {}}}
	switch a {
	case authPublic:
		return []map[string][]string{}
	case authQueryToken:
		return append(bearer, map[string][]string{"queryToken": {}})
	}
	return bearer
}

var authNotes = map[authKind]string{
	authPublic:     "public",
	authUser:       "user",
	authAdmin:      "admin",
	authQueryToken: "user (header or ?token=)",
	authV1:         "user or API key",
	authV1Admin:    "admin (user or API key)",
	authServerCtl:  "admin, or any user when users_control_servers is on",
	authScrape:     "admin, or any API key",
}

func (b *openAPIBuilder) operation(key string, o apiOp, params []string) map[string]any {
	op := map[string]any{
		"operationId": operationID(key),
		"summary":     o.summary,
		"tags":        []string{o.tag},
		"security":    security(o.auth),
		"x-auth":      authNotes[o.auth],
	}
	if len(params) > 0 {
		ps := make([]map[string]any, 0, len(params))
		for _, p := range params {
			ps = append(ps, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		op["parameters"] = ps
	}
	if o.req != nil {
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": b.schema(b.request, o.req)}},
		}
	}
	status := o.status
	if status == 0 {
		status = http.StatusOK
	}
	resp := map[string]any{"description": http.StatusText(status)}
	content := map[string]any{}
	switch {
	case o.resType != "" && o.resp != nil:
		content[o.resType] = map[string]any{"schema": b.schema(b.answer, o.resp)}
	case o.resType != "":
		content[o.resType] = map[string]any{}
	case o.resp != nil:
		content["application/json"] = map[string]any{"schema": b.schema(b.answer, o.resp)}
	}
	if o.stream != "" {
		content[o.stream] = map[string]any{}
	}
	if len(content) > 0 {
		resp["content"] = content
	}
	responses := map[string]any{fmt.Sprint(status): resp}
	if o.auth != authPublic {
		responses["401"] = map[string]any{"description": "Missing or invalid credentials"}
	}
	responses["default"] = map[string]any{"description": "An error, in the protocol's own error JSON"}
	op["responses"] = responses
	return op
}

// operationID makes "POST /api/models/download/{id}/pause" into
// "post_api_models_download_id_pause": stable and unique per route (the OpenAPI
// path, not echo's: /v1/models/* would lose its wildcard and meet /v1/models).
func operationID(key string) string {
	var sb strings.Builder
	prev := byte('_')
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			c = '_'
		}
		if c == '_' && prev == '_' {
			continue
		}
		sb.WriteByte(c)
		prev = c
	}
	return strings.TrimRight(sb.String(), "_")
}

// handleOpenAPI serves the document, built on first request, when every route is
// registered.
func (s *Server) handleOpenAPI() echo.HandlerFunc {
	var (
		once sync.Once
		doc  []byte
		err  error
	)
	return func(c echo.Context) error {
		once.Do(func() { doc, err = OpenAPI(s.echo, s.opts.Version) })
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	}
}
