package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// writeJSON writes results as an indented JSON array: --json of every table.
func writeJSON(w io.Writer, results any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// report writes results as an aligned table, or as a JSON array.
func report(w io.Writer, results []Result, asJSON bool) error {
	if asJSON {
		return writeJSON(w, results)
	}
	if len(results) == 0 {
		_, err := fmt.Fprintln(w, "no results")
		return err
	}
	r0 := results[0]
	fmt.Fprintf(w, "backend %s, %d threads; median of %d runs (slowest–fastest); STREAM triad (best of 5 passes) before the first run and after each; of triad: the median of each run's decode against the mean of the triads around it.\n",
		r0.Backend, r0.Threads, r0.Runs)
	fmt.Fprintln(w, "Decode is llama-bench's tg (from an empty cache), prefill its pp; shared machines make all figures noisy.")
	fmt.Fprintln(w, "Per CPU-s: tokens per CPU second × threads, the rate with a core per thread (spinning workers count as busy).")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "precision\tweights/token\tload\tprefill tok/s\tTTFT\tdecode tok/s\tdecode GB/s\ttriad GB/s\tof triad\tpeak RSS\tper CPU-s: prefill\tdecode\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.2f GiB\t%.2f s\t%.1f (%.1f–%.1f)\t%.0f ms\t%.1f (%.1f–%.1f)\t%.1f\t%.1f\t%.0f%%\t%.0f MiB\t%.1f\t%.1f\t\n",
			r.Precision, float64(r.WeightsBytes)/(1<<30), r.LoadS,
			r.PrefillTokS, r.PrefillMin, r.PrefillMax, r.TTFTMs,
			r.DecodeTokS, r.DecodeMin, r.DecodeMax,
			r.BandwidthGBs, r.MachineGBs, 100*r.BandwidthFraction, r.PeakRSSMB,
			r.CPUPrefillTokS, r.CPUDecodeTokS)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	// Mixtures of experts read a fraction of their weights per token.
	for _, r := range results {
		if r.ActiveParams > 0 && r.ActiveParams < r.Params {
			fmt.Fprintf(w, "%s: %.3gB parameters, %.3gB read per token (%.0f%%)\n", r.Precision,
				float64(r.Params)/1e9, float64(r.ActiveParams)/1e9, 100*float64(r.ActiveParams)/float64(r.Params))
		}
	}
	return nil
}
