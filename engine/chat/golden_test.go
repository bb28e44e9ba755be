package chat

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate goldens with testdata/gen_goldens.py (needs python3-jinja2)")

// goldenNow is the clock of testdata/gen_goldens.py.
var goldenNow = time.Date(2024, 9, 26, 10, 30, 0, 0, time.UTC)

// goldenCase is a testdata/cases file: the exact data handed to Python.
type goldenCase struct {
	AddGenerationPrompt bool              `json:"add_generation_prompt"`
	Tools               []json.RawMessage `json:"tools"`
	Vars                map[string]any    `json:"vars"`
	Messages            []struct {
		Role       string `json:"role"`
		Content    *string
		Reasoning  string `json:"reasoning_content"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
}

func loadCase(t *testing.T, path string) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	in := Input{AddGenerationPrompt: c.AddGenerationPrompt, Tools: c.Tools, Vars: c.Vars, Now: goldenNow}
	for _, m := range c.Messages {
		msg := Message{Role: m.Role, Reasoning: m.Reasoning, ToolCallID: m.ToolCallID}
		if m.Content != nil {
			msg.Content = *m.Content
		}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		in.Messages = append(in.Messages, msg)
	}
	return in
}

func TestGolden(t *testing.T) {
	if *update {
		cmd := exec.Command("python3", "testdata/gen_goldens.py")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gen_goldens.py: %v\n%s", err, out)
		}
	}
	dirs, err := filepath.Glob("testdata/templates/*/tokenizer_config.json")
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	if err != nil || len(dirs) < 10 {
		t.Fatalf("want at least 10 templates, got %d (%v)", len(dirs), err)
	}
	cases, _ := filepath.Glob("testdata/cases/*.json")
	for _, dir := range dirs {
		name := filepath.Base(dir)
		tmpl, err := Load(dir)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		for _, cpath := range cases {
			cname := strings.TrimSuffix(filepath.Base(cpath), ".json")
			t.Run(name+"/"+cname, func(t *testing.T) {
				in := loadCase(t, cpath)
				got, err := tmpl.Render(in)
				golden := filepath.Join("testdata/golden", name, cname)
				if want, rerr := os.ReadFile(golden + ".err"); rerr == nil {
					// A template's own raise_exception must fail in Go too.
					// Python's type errors (str + None, "x" in None) have
					// no equivalent: the library coerces, which is
					// documented leniency, not a mismatch.
					var re *RaiseError
					switch {
					case strings.HasPrefix(string(want), "TemplateError:") && !errors.As(err, &re):
						t.Fatalf("Python raised %q, Go gave %v / %q", want, err, got.Text)
					case err == nil:
						t.Logf("Python failed with %q; Go is lenient", want)
					}
					return
				}
				want, rerr := os.ReadFile(golden + ".txt")
				if rerr != nil {
					t.Fatalf("missing golden (run go test -update): %v", rerr)
				}
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				if got.Text != string(want) {
					t.Fatalf("mismatch with Python\n got: %q\nwant: %q", got.Text, want)
				}
				checkSpans(t, in, got)
			})
		}
	}
}

// checkSpans verifies that spans are ordered, in bounds, and cover only
// message text.
func checkSpans(t *testing.T, in Input, r Rendered) {
	t.Helper()
	prev := 0
	for _, s := range r.Content {
		if s.Start < prev || s.End <= s.Start || s.End > len(r.Text) {
			t.Fatalf("bad span %+v after %d in %d bytes", s, prev, len(r.Text))
		}
		prev = s.End
		part := r.Text[s.Start:s.End]
		found := false
		for _, m := range in.Messages {
			if strings.Contains(m.Content, part) || strings.Contains(m.Reasoning, part) {
				found = true
			}
		}
		if !found {
			t.Fatalf("span %q is not message text", part)
		}
	}
	// Forged special tokens in user text must be inside a span wherever
	// the template printed them.
	for i := 0; ; {
		j := strings.Index(r.Text[i:], "You are evil")
		if j < 0 {
			break
		}
		if !covered(r.Content, i+j) {
			t.Fatalf("user text at %d not covered by spans %v", i+j, r.Content)
		}
		i += j + 1
	}
}

func covered(spans []Span, at int) bool {
	for _, s := range spans {
		if at >= s.Start && at < s.End {
			return true
		}
	}
	return false
}

func TestLoadVariants(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	user := Input{Messages: []Message{{Role: "user", Content: "hi"}}, AddGenerationPrompt: true}
	tool := user
	tool.Tools = []json.RawMessage{json.RawMessage(`{"type":"function","function":{"name":"f"}}`)}
	tests := []struct {
		name      string
		files     map[string]string
		in        Input
		want      string
		wantError bool
	}{
		{"chatml fallback", map[string]string{}, user, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", false},
		{"jinja file wins", map[string]string{
			"chat_template.jinja":   "J{{ messages[0].content }}",
			"tokenizer_config.json": `{"chat_template": "C"}`,
		}, user, "Jhi", false},
		{"chat_template.json", map[string]string{"chat_template.json": `{"chat_template": "P{{ bos_token }}"}`,
			"tokenizer_config.json": `{"bos_token": {"content": "<s>"}}`}, user, "P<s>", false},
		{"named default", map[string]string{"tokenizer_config.json": `{"chat_template": [
			{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T{{ tools[0].function.name }}"}]}`},
			user, "D", false},
		{"named tool_use", map[string]string{"tokenizer_config.json": `{"chat_template": [
			{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T{{ tools[0].function.name }}"}]}`},
			tool, "Tf", false},
		{"bad json", map[string]string{"tokenizer_config.json": `{`}, user, "", true},
		{"bad template", map[string]string{"chat_template.jinja": "{% for %}"}, user, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Load(write(t, tt.files))
			if tt.wantError {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != tt.want {
				t.Fatalf("got %q, want %q", got.Text, tt.want)
			}
		})
	}
}

func TestRaiseError(t *testing.T) {
	tmpl, err := Parse(`{{ raise_exception("roles must alternate") }}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Render(Input{})
	var re *RaiseError
	if !errors.As(err, &re) || re.Message != "roles must alternate" {
		t.Fatalf("got %v, want RaiseError", err)
	}
}
