#!/usr/bin/python3
"""Independent forward pass that produces testdata/golden.json.

This is a second implementation of the same models, written differently from
the Go reference on purpose: numpy, whole-sequence attention with an explicit
mask matrix, HF's cos/sin tables with rotate_half, repeat_kv, MLX codes
unpacked with np.unpackbits, bfloat16 widened by bit shifting. If both agree,
neither shares a bug with the other by construction.

Regenerate (needs python3-numpy):
    go test ./engine/model/reference -run TestGolden -golden-dir /tmp/golden
    /usr/bin/python3 engine/model/reference/testdata/golden.py /tmp/golden > engine/model/reference/testdata/golden.json
"""
import json
import os
import struct
import sys

import numpy as np

LOGITS = 64  # leading logits kept per position


def load_tensors(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for f in files:
        b = open(os.path.join(d, f), "rb").read()
        n = struct.unpack("<Q", b[:8])[0]
        header = json.loads(b[8:8 + n])
        for name, v in header.items():
            if name == "__metadata__":
                continue
            s, e = v["data_offsets"]
            raw = b[8 + n + s:8 + n + e]
            dt = v["dtype"]
            if dt == "F32":
                a = np.frombuffer(raw, "<f4").astype(np.float64)
            elif dt == "F16":
                a = np.frombuffer(raw, "<f2").astype(np.float64)
            elif dt == "BF16":
                a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
            elif dt == "U32":
                a = np.frombuffer(raw, "<u4")
            else:
                raise ValueError(dt)
            out[name] = a.reshape(v["shape"])
    return out


def dequantize(codes, scales, biases, bits, group):
    rows = codes.shape[0]
    stream = np.unpackbits(codes.view(np.uint8).reshape(rows, -1), axis=1, bitorder="little")
    q = stream.reshape(rows, -1, bits).astype(np.int64) @ (1 << np.arange(bits))
    # MLX computes scale*q + bias in float32.
    s = np.repeat(scales.astype(np.float32), group, axis=1)
    b = np.repeat(biases.astype(np.float32), group, axis=1)
    return (s * q.astype(np.float32) + b).astype(np.float64)


def weight(T, cfg, path):
    if path + ".scales" not in T:
        return T[path + ".weight"]
    q = cfg["quantization"]
    o = q.get(path)
    bits, group = (o["bits"], o["group_size"]) if isinstance(o, dict) else (q["bits"], q["group_size"])
    return dequantize(T[path + ".weight"], T[path + ".scales"], T[path + ".biases"], bits, group)


def inv_freq(cfg, d):
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (np.arange(0, d, 2, dtype=np.float64) / d))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv / rs["factor"]
    assert kind == "llama3", kind
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    wavelen = 2 * np.pi / inv
    scaled = np.where(wavelen > old / lo, inv / factor, inv)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < old / hi) & ~(wavelen > old / lo)
    return np.where(medium, smoothed, scaled)


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def forward(d, prompt):
    cfg = json.load(open(os.path.join(d, "config.json")))
    T = load_tensors(d)
    H, KV, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" else None
    n = len(prompt)

    def lin(path, x):
        y = x @ weight(T, cfg, path).T
        if path + ".bias" in T:
            y = y + T[path + ".bias"]
        return y

    x = weight(T, cfg, "model.embed_tokens")[prompt]
    ang = np.arange(n)[:, None] * inv_freq(cfg, D)[None, :]
    cos = np.cos(np.concatenate([ang, ang], -1))[:, None, :]
    sin = np.sin(np.concatenate([ang, ang], -1))[:, None, :]
    t, s = np.arange(n)[:, None], np.arange(n)[None, :]
    masked = s > t
    if window:
        masked |= t - s >= window
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, T[p + "input_layernorm.weight"], eps)
        q = lin(p + "self_attn.q_proj", h).reshape(n, H, D)
        k = lin(p + "self_attn.k_proj", h).reshape(n, KV, D)
        v = lin(p + "self_attn.v_proj", h).reshape(n, KV, D)
        if p + "self_attn.q_norm.weight" in T:
            q = rms_norm(q, T[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, T[p + "self_attn.k_norm.weight"], eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = np.repeat(k, H // KV, axis=1), np.repeat(v, H // KV, axis=1)
        scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(D)
        scores = np.where(masked[None], -np.inf, scores)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", probs, v).reshape(n, H * D)
        x = x + lin(p + "self_attn.o_proj", o)
        h = rms_norm(x, T[p + "post_attention_layernorm.weight"], eps)
        g = lin(p + "mlp.gate_proj", h)
        x = x + lin(p + "mlp.down_proj", g / (1 + np.exp(-g)) * lin(p + "mlp.up_proj", h))
    x = rms_norm(x, T["model.norm.weight"], eps)
    head = "model.embed_tokens" if cfg.get("tie_word_embeddings") else "lm_head"
    return lin(head, x)


def main():
    base = sys.argv[1]
    models = json.load(open(os.path.join(base, "models.json")))
    out = {}
    for name, m in sorted(models.items()):
        logits = forward(os.path.join(base, m["dir"]), m["prompt"])
        out[name] = {"prompt": m["prompt"], "logits": [[float(f"{v:.9g}") for v in row[:LOGITS]] for row in logits]}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
