package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

var updateOpenAPI = flag.Bool("update-openapi", false, "rewrite assets/ui/src/lib/openapi.json from the server's routes")

// committedOpenAPI is the document the UI's TypeScript types are generated from.
var committedOpenAPI = filepath.Join("..", "assets", "ui", "src", "lib", "openapi.json")

// openAPIDocVersion is the info.version of the committed document: the served one
// carries the binary's version, which would make the committed file drift.
const openAPIDocVersion = "dev"

func openAPIServer(t *testing.T) *Server {
	t.Helper()
	params := auth.TestParams
	s, err := New(Options{Addr: "127.0.0.1:0", Store: storetest.OpenDir(t, t.TempDir(), store.Options{}),
		PasswordParams: &params, Version: openAPIDocVersion, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.closeStreams)
	return s
}

// TestOpenAPICoversEveryRoute fails on a route the server registers without an
// entry in openAPIOps, and on an entry no route matches.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := openAPIServer(t)
	routes := map[string]bool{}
	var missing []string
	for _, r := range s.echo.Routes() {
		if undocumented(r) || strings.HasPrefix(r.Path, "/api/test/") {
			continue
		}
		key := r.Method + " " + r.Path
		routes[key] = true
		if _, ok := openAPIOps[key]; !ok {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("routes without an entry in openAPIOps (api/openapi.go):\n  %s\n"+
			"add one per route, keyed \"METHOD /path\" as echo registers it, e.g.\n"+
			"  %q: {tag: \"openai\", summary: \"...\", auth: authV1, req: theRequestType{}, resp: theResponseType{}},\n"+
			"with auth matching the route's routeAccess entry in security_test.go, then run\n"+
			"  go test ./api -run TestCommittedOpenAPIIsCurrent -update-openapi && (cd assets/ui && npm run gen-api)",
			strings.Join(missing, "\n  "), missing[0])
	}
	for key := range openAPIOps {
		if !routes[key] {
			t.Errorf("openAPIOps has %q, which no route matches: remove it", key)
		}
	}
	for key, o := range openAPIOps {
		if o.summary == "" || !hasTag(o.tag) {
			t.Errorf("%s: needs a summary and one of openAPITags (tag %q)", key, o.tag)
		}
	}
}

func hasTag(tag string) bool {
	for _, t := range openAPITags {
		if t == tag {
			return true
		}
	}
	return false
}

// TestOpenAPIAuthMatchesRouteAccess holds the document's security to routeAccess,
// which TestRouteAccess checks against the real middleware.
func TestOpenAPIAuthMatchesRouteAccess(t *testing.T) {
	want := map[access]authKind{public: authPublic, user: authUser, admin: authAdmin, queryToken: authQueryToken,
		v1: authV1, v1Admin: authV1Admin, scrape: authScrape}
	for key, o := range openAPIOps {
		acc, ok := routeAccess[key]
		if !ok {
			t.Errorf("%s is documented but not in routeAccess", key)
			continue
		}
		got := o.auth
		if got == authServerCtl {
			got = authAdmin // routeAccess checks the default: users_control_servers off
		}
		if want[acc] != got {
			t.Errorf("%s: openAPIOps says %q, routeAccess %d", key, authNotes[o.auth], acc)
		}
	}
}

func TestCommittedOpenAPIIsCurrent(t *testing.T) {
	doc, err := OpenAPI(openAPIServer(t).echo, openAPIDocVersion)
	if err != nil {
		t.Fatal(err)
	}
	if *updateOpenAPI {
		if err := os.WriteFile(committedOpenAPI, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(committedOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, doc) {
		t.Errorf("%s differs from the server's document: run\n"+
			"  go test ./api -run TestCommittedOpenAPIIsCurrent -update-openapi && (cd assets/ui && npm run gen-api)\n"+
			"and commit both files", committedOpenAPI)
	}
}

// TestOpenAPIServedIsValid fetches GET /api/openapi.json without credentials and
// validates it against OpenAPI 3.1's JSON Schema, and every component schema
// against JSON Schema 2020-12 (what 3.1's Schema Objects are).
func TestOpenAPIServedIsValid(t *testing.T) {
	s := openAPIServer(t)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	res, err := http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc, err := jsonschema.UnmarshalJSON(res.Body)
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join("testdata", "openapi-3.1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://spec.openapis.org/oas/3.1/schema/2022-10-07", meta); err != nil {
		t.Fatal(err)
	}
	oas, err := c.Compile("https://spec.openapis.org/oas/3.1/schema/2022-10-07")
	if err != nil {
		t.Fatal(err)
	}
	if err := oas.Validate(doc); err != nil {
		t.Fatalf("not a valid OpenAPI 3.1 document: %v", err)
	}
	// The validator refuses a broken document: an operation without responses.
	health := doc.(map[string]any)["paths"].(map[string]any)["/health"].(map[string]any)["get"].(map[string]any)
	responses := health["responses"]
	health["responses"] = "none"
	if oas.Validate(doc) == nil {
		t.Error("a document with responses: \"none\" passed validation")
	}
	health["responses"] = responses

	// The component schemas compile as JSON Schema 2020-12 (the compiler checks each
	// against the meta-schema), and every $ref resolves: the document is one resource.
	c = jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem://openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	comps := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
	if len(comps) < 40 {
		t.Errorf("%d component schemas: the wire types are not all there", len(comps))
	}
	for name := range comps {
		if _, err := c.Compile("mem://openapi.json#/components/schemas/" + jsonPointerEscape(name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}

	// Code generators key their output by operationId: each must be unique.
	ids := map[string]string{}
	for path, item := range doc.(map[string]any)["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			id := op.(map[string]any)["operationId"].(string)
			if other, dup := ids[id]; dup {
				t.Errorf("operationId %s of %s %s is also %s's", id, method, path, other)
			}
			ids[id] = method + " " + path
		}
	}

	// A wire type's schema says what its JSON carries: a user as the server sends it.
	var user struct {
		Properties map[string]any `json:"properties"`
	}
	b, _ := json.Marshal(comps["api.userView"])
	if err := json.Unmarshal(b, &user); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"id", "email", "is_admin", "status"} {
		if user.Properties[field] == nil {
			t.Errorf("api.userView has no %q: %s", field, b)
		}
	}
}

func jsonPointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
