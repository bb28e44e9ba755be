package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine"
)

// runLogits prints a model's logits for a token sequence: the last position's,
// or every position's with --all.
func runLogits(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelsDir := fs.String("models-dir", config.ModelsDir(nil), "models directory (Hugging Face cache layout)")
	executor := fs.String("executor", "cpu", "cpu or gomlx")
	// Logits are for porting and debugging a model: exact by default.
	kv := fs.String("kv-cache", "f32", "KV cache precision of the cpu executor: f32 or f16")
	acts := fs.String("activations", "f32", "input precision of Q8/Q4 products in the cpu executor: f32 or int16")
	idList := fs.String("ids", "", "comma-separated token ids, e.g. 1,2,3")
	text := fs.String("text", "", "tokenize this text (with BOS) instead of --ids")
	all := fs.Bool("all", false, "print every position's logits, not only the last one")
	asJSON := fs.Bool("json", false, `print {"ids": [...], "logits": [[...], ...]}; without it, the top 10 of each position`)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: logits [flags] MODEL (--ids 1,2,3 | --text TEXT)", errUsage)
	}
	if err := checkModelPath(pos[0]); err != nil {
		return err
	}
	ids, err := parseIDs(*idList)
	if err != nil {
		return fmt.Errorf("%w: --ids: %v", errUsage, err)
	}
	if (len(ids) > 0) == (*text != "") {
		return fmt.Errorf("%w: give either --ids or --text", errUsage)
	}
	e, err := newCLIEngine(*modelsDir, *executor, precision{KV: *kv, Activations: *acts}, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	res, err := e.Logits(ctx, engine.LogitsRequest{Model: pos[0], IDs: ids, Text: *text, All: *all})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			IDs    []int32     `json:"ids"`
			Logits [][]float32 `json:"logits"`
		}{res.IDs, res.Logits})
	}
	return printTop(stdout, res, *all, 10)
}

func parseIDs(s string) ([]int32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a token id", f)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// printTop writes, per position, the k highest-scoring tokens and their logits.
func printTop(w io.Writer, res *engine.LogitsResult, all bool, k int) error {
	first := len(res.IDs) - 1
	if all {
		first = 0
	}
	for i, row := range res.Logits {
		order := make([]int, len(row))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
		var b strings.Builder
		fmt.Fprintf(&b, "position %d (id %d):", first+i, res.IDs[first+i])
		for _, j := range order[:min(k, len(order))] {
			fmt.Fprintf(&b, " %d:%.4f", j, row[j])
		}
		if _, err := fmt.Fprintln(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}
