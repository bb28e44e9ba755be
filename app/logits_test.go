package app

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

type logitsOut struct {
	IDs    []int32     `json:"ids"`
	Logits [][]float32 `json:"logits"`
}

func runLogitsCmd(t *testing.T, args ...string) (logitsOut, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), append([]string{"logits"}, args...), &out, &errb); code != 0 {
		t.Fatalf("logits %q: exit %d: %s", args, code, errb.String())
	}
	var res logitsOut
	if strings.Contains(strings.Join(args, " "), "--json") {
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
	}
	return res, out.String()
}

// want runs the CPU executor directly, one token at a time, and returns the
// logits after each.
func want(t *testing.T, dir string, ids []int32) [][]float32 {
	t.Helper()
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := cpu.New(m, cpu.Options{KVF32: true}) // the command defaults to an exact cache
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seq, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	var rows [][]float32
	for _, id := range ids {
		l, err := seq.Forward(context.Background(), []int32{id})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, append([]float32(nil), l...))
	}
	return rows
}

func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	var ss, worst float64
	for i := range want {
		ss += float64(want[i]) * float64(want[i])
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if rms := math.Sqrt(ss / float64(len(want))); worst > 1e-4*rms {
		t.Errorf("%s: differs by %.3g with logits of RMS %.3g", what, worst, rms)
	}
}

func TestLogitsCommand(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{Layers: 2, Seed: 9})
	ids := []int32{1, 45, 300, 7, 220}
	rows := want(t, dir, ids)

	t.Run("last", func(t *testing.T) {
		res, _ := runLogitsCmd(t, dir, "--ids", "1,45,300,7,220", "--json")
		if len(res.Logits) != 1 || len(res.IDs) != len(ids) {
			t.Fatalf("%d rows for ids %v", len(res.Logits), res.IDs)
		}
		closeTo(t, "last position", res.Logits[0], rows[len(rows)-1])
	})
	t.Run("all", func(t *testing.T) {
		res, _ := runLogitsCmd(t, "--all", dir, "--json", "--ids", "1, 45,300,7,220")
		if len(res.Logits) != len(ids) {
			t.Fatalf("%d rows for %d ids", len(res.Logits), len(ids))
		}
		for p := range ids {
			closeTo(t, "position "+string(rune('0'+p)), res.Logits[p], rows[p])
		}
	})
	t.Run("text", func(t *testing.T) {
		var tok bytes.Buffer
		if code := Main(context.Background(), []string{"tokenize", dir, "Once upon a time"}, &tok, &bytes.Buffer{}); code != 0 {
			t.Fatal("tokenize failed")
		}
		var tids []int32
		if err := json.Unmarshal(tok.Bytes(), &tids); err != nil {
			t.Fatal(err)
		}
		res, _ := runLogitsCmd(t, dir, "--text", "Once upon a time", "--json")
		if len(res.IDs) != len(tids) || res.IDs[0] != tids[0] || res.IDs[len(tids)-1] != tids[len(tids)-1] {
			t.Fatalf("ids %v, tokenize gave %v", res.IDs, tids)
		}
		trows := want(t, dir, tids)
		closeTo(t, "text", res.Logits[0], trows[len(trows)-1])
	})
	t.Run("top", func(t *testing.T) {
		_, out := runLogitsCmd(t, dir, "--ids", "1,45")
		if !strings.HasPrefix(out, "position 1 (id 45):") || len(strings.Fields(out)) != 4+10 {
			t.Errorf("printed %q", out)
		}
	})
}

// TestLogitsCommandFamily runs the command on a Gemma 3 multimodal checkpoint,
// whose text model the engine loads under its language_model.* names.
func TestLogitsCommandFamily(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{Arch: "gemma3mm", Layers: 6, Seed: 3})
	ids := []int32{2, 45, 300, 7, 220, 19, 402}
	rows := want(t, dir, ids)
	res, _ := runLogitsCmd(t, dir, "--ids", "2,45,300,7,220,19,402", "--json", "--all")
	if len(res.Logits) != len(ids) {
		t.Fatalf("%d rows", len(res.Logits))
	}
	for p := range ids {
		closeTo(t, "gemma3 position", res.Logits[p], rows[p])
	}
}

func TestLogitsCommandRejects(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{Seed: 9})
	for name, args := range map[string][]string{
		"no input":      {dir},
		"both inputs":   {dir, "--ids", "1", "--text", "hi"},
		"bad id":        {dir, "--ids", "1,x"},
		"outside vocab": {dir, "--ids", "1,512"},
		"no model":      {"--ids", "1"},
	} {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			if code := Main(context.Background(), append([]string{"logits"}, args...), &bytes.Buffer{}, &errb); code == 0 {
				t.Errorf("accepted %q", args)
			} else if errb.Len() == 0 {
				t.Error("no message on stderr")
			}
		})
	}
}
