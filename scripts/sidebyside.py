#!/usr/bin/env python3
"""Helpers of scripts/sidebyside.sh (standard library only).

  load URL N PROMPT DECODE VOCAB       N concurrent streamed /completion requests
                                       to llama-server; prints one JSON object
  llamabench FILE                      llama-bench -o json -> {"pp":..,"tg":..}
  mlxbench FILE                        mlx-manager bench --json -> {"pp":..,"tg":..,"triad":..}
  mlxconc FILE                         mlx-manager bench --concurrency --json -> [{"n":..,"tok_s":..}]
  table RESULTS.jsonl HEADER.json      the markdown report
  checkdir MODEL_DIR DST TEMPLATE_DIR  MODEL_DIR plus a tokenizer.json, for `mlx-manager logits`
  check URL MLX MODEL_DIR IDS N        the same-model check (see sidebyside.sh --check)
Every command that prints results takes trailing key=value pairs to add to them.
"""

import json
import math
import sys
import threading
import time
import urllib.request


def prompt_tokens(n, vocab):
    """engine/bench's promptTokens: the same fixed pseudo-random ids (3.. skip the specials)."""
    out, x = [], 12345
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append(3 + (x >> 8) % (vocab - 3))
    return out


def stream_completion(url, body, on_first):
    """POST a streamed /completion; returns the number of tokens decoded."""
    req = urllib.request.Request(url + "/completion", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    first, last = True, None
    with urllib.request.urlopen(req, timeout=3600) as resp:
        for line in resp:
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            ev = json.loads(line[6:])
            if "error" in ev:
                raise RuntimeError(f"llama-server: {ev['error']}")
            if first:
                on_first()
                first = False
            last = ev
            if ev.get("stop"):
                return ev.get("tokens_predicted", 0)
    raise RuntimeError(f"stream ended without a stop event; last event {last}")


def cmd_load(url, n, prompt, decode, vocab, extras):
    # Like engine/bench's concurrentRun: request i gets base[i:i+prompt].
    base = prompt_tokens(prompt + n, vocab)
    ttft, done, errs = [0.0] * n, [0] * n, []
    start = time.monotonic()

    def run(i):
        # The 256 byte pieces are banned: the random model would emit them, and
        # llama-server fails a request whose text is not whole UTF-8 ("Failed to
        # parse input"). Greedy among the other 31,744 ids costs the same.
        body = {"prompt": base[i:i + prompt], "n_predict": decode, "stream": True, "ignore_eos": True,
                "cache_prompt": False, "temperature": 0, "top_k": 1, "samplers": ["top_k"],
                "logit_bias": [[t, False] for t in range(3, 259)]}
        try:
            done[i] = stream_completion(url, body, lambda: ttft.__setitem__(i, time.monotonic() - start))
        except Exception as e:  # reported below, never silently counted
            errs.append(f"request {i}: {e}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    if errs:
        sys.exit("llama-server load: " + "; ".join(errs))
    if any(d != decode for d in done):
        sys.exit(f"llama-server load: decoded {done}, wanted {decode} each")
    s = sorted(ttft)
    emit({"n": n, "tok_s": sum(done) / wall, "ttft_ms": 1e3 * s[len(s) // 2],
          "ttft_p95_ms": 1e3 * s[max(0, math.ceil(0.95 * len(s)) - 1)], "wall_s": wall}, extras)


def emit(obj, extras):
    """Print obj (or each object of a list) with the key=value pairs of extras merged in."""
    kv = {}
    for e in extras:
        k, v = e.split("=", 1)
        try:
            kv[k] = int(v)
        except ValueError:
            kv[k] = v
    for o in obj if isinstance(obj, list) else [obj]:
        o.update(kv)
        print(json.dumps(o))


def cmd_llamabench(path, extras):
    rows = json.load(open(path))
    out = {}
    for r in rows:
        key = "pp" if r["n_gen"] == 0 else "tg"
        out[key] = r["avg_ts"]
        out["cpu"] = r.get("cpu_info", "")
        out["type"] = r.get("model_type", "")
        out["fa"] = r.get("flash_attn")
        out["commit"] = r.get("build_commit", "")
    if "pp" not in out or "tg" not in out:
        sys.exit(f"{path}: no pp and tg rows")
    emit(out, extras)


def cmd_mlxbench(path, extras):
    r = json.load(open(path))[0]
    emit({"pp": r["prefill_tok_s"], "tg": r["decode_tok_s"], "triad": r["machine_gbs"],
          "backend": r["backend"], "threads": r["threads"]}, extras)


def cmd_mlxconc(path, extras):
    emit([{"n": r["concurrency"], "tok_s": r["tok_s"], "ttft_ms": r["ttft_median_ms"],
           "ttft_p95_ms": r["ttft_p95_ms"]} for r in json.load(open(path))], extras)


def best(vals):
    return max(vals) if vals else float("nan")


def fmt(vals):
    if not vals:
        return "–"
    if len(vals) == 1:
        return f"{vals[0]:.1f}"
    return f"**{max(vals):.1f}** ({min(vals):.1f}–{max(vals):.1f})"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b and not math.isnan(a) and not math.isnan(b) else "–"


def cmd_table(results_path, header_path):
    """One markdown table: each precision's single-stream and concurrent rows side by side."""
    h = json.load(open(header_path))
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    print(f"## llama.cpp vs mlx-manager on the same weights, {h['date']}\n")
    print(f"- CPU: {h['cpu']} ({h['nproc']} logical CPUs); {h['threads']} threads for both")
    triads = [r["triad"] for r in rows if r.get("triad")]
    if triads:
        print(f"- STREAM triad (mlx-manager bench): {max(triads):.1f} GB/s best, {min(triads):.1f} worst")
    print(f"- uptime before: `{h['uptime_before']}`")
    print(f"- uptime after:  `{h['uptime_after']}`")
    print(f"- llama.cpp {h['llama_commit']}; {h['mlx_version']}; {h['elapsed']}")
    print(f"- {h['rounds']} interleaved rounds (engine order alternating); cells: **best** (slowest–fastest), tok/s")
    print(f"- pp{h['prompt']} / tg{h['decode']}: llama-bench -t {h['threads']} -p {h['prompt']} -n {h['decode']} -r 1 "
          f"vs mlx-manager bench --runs 1 (prefill of a {h['prompt']}-token prompt; {h['decode']} tokens decoded "
          "greedily from an empty cache)")
    print(f"- N=k: k requests at once, each a {h['conc_prompt']}-token prompt + {h['decode']} greedy tokens, "
          f"all decoded tokens / wall time; llama-server -np k -t {h['threads']} (streamed /completion) vs "
          "mlx-manager bench --concurrency; TTFT: median request of the best round")
    print(f"- models: {h['cache']} (safetensors) and {h['gguf_dir']} (GGUF); F32, BF16, F16 and Q4_1 are the "
          "safetensors' weights exactly (Q4_1 = the MLX q4 model, each group of 64 two blocks of 32); Q8_0 and "
          "Q4_0 are `llama-quantize --pure`'s from the F32 file (same model, llama.cpp's own rounding; output.weight quantized too)\n")
    print("| precision | GGUF | test | llama.cpp | mlx-manager | mlx/llama | TTFT llama.cpp | TTFT mlx-manager |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    tests = [("pp", f"pp{h['prompt']}"), ("tg", f"tg{h['decode']}")]
    for p in h["precisions"]:
        mine = [r for r in rows if r["precision"] == p and r["engine"] == "mlx-manager"]
        for gt in dict.fromkeys(r["gguf"] for r in rows if r["precision"] == p and r["engine"] == "llama.cpp"):
            theirs = [r for r in rows if r["precision"] == p and r["engine"] == "llama.cpp" and r["gguf"] == gt]
            for key, label in tests:
                ll = [r[key] for r in theirs if r["kind"] == "single"]
                mm = [r[key] for r in mine if r["kind"] == "single"]
                if ll or mm:
                    print(f"| {p} | {gt} | {label} | {fmt(ll)} | {fmt(mm)} | {ratio(best(mm), best(ll))} | | |")
            for n in h["levels"]:
                ll = [r for r in theirs if r["kind"] == "conc" and r["n"] == n]
                mm = [r for r in mine if r["kind"] == "conc" and r["n"] == n]
                if not (ll or mm):
                    continue
                lb = max(ll, key=lambda r: r["tok_s"]) if ll else None
                mb = max(mm, key=lambda r: r["tok_s"]) if mm else None
                lt = f"{lb['ttft_ms']:.0f} ms" if lb else "–"
                mt = f"{mb['ttft_ms']:.0f} ms" if mb else "–"
                print(f"| {p} | {gt} | N={n} | {fmt([r['tok_s'] for r in ll])} | {fmt([r['tok_s'] for r in mm])} | "
                      f"{ratio(mb and mb['tok_s'], lb and lb['tok_s'])} | {lt} | {mt} |")


def log_softmax(v):
    m = max(v)
    s = math.log(sum(math.exp(x - m) for x in v)) + m
    return [x - s for x in v]


def cmd_checkdir(model_dir, dst, template_dir):
    """A copy of model_dir (symlinks) with a tokenizer.json, which `mlx-manager logits` loads.

    The generated model has none. The tokenizer is the project's test Llama
    tokenizer (engine/model/modeltest/testdata) with its vocabulary replaced by
    the pieces bench_to_gguf.py writes into the GGUF, so both sides agree on
    every id (the check feeds ids, never text).
    """
    import os
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(model_dir):
        if name.endswith(".safetensors") or name in ("config.json", "model.safetensors.index.json"):
            link = os.path.join(dst, name)
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(os.path.join(model_dir, name)), link)
    vocab_size = json.load(open(os.path.join(model_dir, "config.json")))["vocab_size"]
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    pieces += [f"\u2581t{i}" for i in range(len(pieces), vocab_size)]
    tok = json.load(open(os.path.join(template_dir, "tokenizer.json")))
    tok["model"]["vocab"] = {p: i for i, p in enumerate(pieces)}
    tok["model"]["merges"] = []
    json.dump(tok, open(os.path.join(dst, "tokenizer.json"), "w"), ensure_ascii=False)
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        with open(os.path.join(template_dir, name)) as f, open(os.path.join(dst, name), "w") as g:
            g.write(f.read())


def cmd_check(url, mlx, model_dir, ids_csv, n):
    """Greedy continuation and top log-probabilities of llama-server against ours.

    llama.cpp decodes n tokens greedily and reports its top 10 log-probabilities
    at each step; `mlx-manager logits MODEL --ids PROMPT+CONTINUATION --all
    --json` must pick the same tokens and give the same log-probabilities.
    """
    import subprocess
    prompt = [int(x) for x in ids_csv.split(",")]
    body = {"prompt": prompt, "n_predict": n, "n_probs": 10, "post_sampling_probs": False, "temperature": 0,
            "top_k": 1, "samplers": ["top_k"], "ignore_eos": True, "cache_prompt": False, "return_tokens": True}
    req = urllib.request.Request(url + "/completion", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    res = json.load(urllib.request.urlopen(req, timeout=600))
    probs = res["completion_probabilities"]
    ids = prompt + [p["id"] for p in probs]
    out = subprocess.run([mlx, "logits", model_dir, "--ids", ",".join(map(str, ids)), "--all", "--json"],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)["logits"]
    if len(ours) != len(ids):
        sys.exit(f"mlx-manager logits: {len(ours)} positions for {len(ids)} ids")
    print(f"prompt {prompt}; llama.cpp's greedy continuation {ids[len(prompt):]}")
    worst, agree = 0.0, 0
    for i, step in enumerate(probs):
        row = log_softmax(ours[len(prompt) - 1 + i])
        greedy = max(range(len(row)), key=row.__getitem__)
        if greedy == step["id"]:
            agree += 1
        top = step["top_logprobs"]
        diffs = [abs(row[t["id"]] - t["logprob"]) for t in top]
        worst = max(worst, max(diffs))
        print(f"pos {i:2d}: llama.cpp {step['id']:5d} (logprob {step['logprob']:.5f}), "
              f"mlx-manager {greedy:5d} (logprob {row[greedy]:.5f}); top-10 max |Δ logprob| {max(diffs):.2e}")
    print(f"greedy agreement {agree}/{len(probs)}; largest |Δ logprob| over every top-10 token: {worst:.2e}")
    if agree != len(probs):
        sys.exit(1)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        cmd_load(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]), args[5:])
    elif cmd == "llamabench":
        cmd_llamabench(args[0], args[1:])
    elif cmd == "mlxbench":
        cmd_mlxbench(args[0], args[1:])
    elif cmd == "mlxconc":
        cmd_mlxconc(args[0], args[1:])
    elif cmd == "checkdir":
        cmd_checkdir(args[0], args[1], args[2])
    elif cmd == "table":
        cmd_table(args[0], args[1])
    elif cmd == "check":
        cmd_check(args[0], args[1], args[2], args[3], int(args[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
