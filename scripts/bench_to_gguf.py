#!/usr/bin/env python3
"""Write a model that `mlx-manager bench` generated as a GGUF file for llama.cpp.

The side-by-side benchmark (scripts/sidebyside.sh) must run llama.cpp on the
very weights our bench runs. llama.cpp's convert_hf_to_gguf.py needs torch,
which the machines here cannot install, so this does the same mapping with
the gguf package of llama.cpp's own tree (gguf-py, numpy only):

  * tensor names as convert_hf_to_gguf.py's LlamaModel maps them;
  * q_proj and k_proj rows permuted as LlamaModel.permute does, because
    llama.cpp's llama applies RoPE to adjacent pairs while Hugging Face's
    Llama rotates the two halves of each head;
  * 1-D tensors (the norms) stored as F32, matrices in the source's dtype
    byte for byte (F32, BF16 or F16);
  * an MLX affine 4-bit model (group 64, F16 scales and biases) becomes
    Q4_1 losslessly: a Q4_1 block of 32 is d*q + m with F16 d and m, so each
    MLX group is two blocks with its scale and bias;
  * a SentencePiece-style vocabulary of the model's size (<unk>, <s>, </s>,
    the 256 byte pieces, then placeholders): the generated model has no
    tokenizer, and the benchmark and the logit check feed token ids.

usage: bench_to_gguf.py MODEL_DIR OUT.gguf [--gguf-py DIR]
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "U32": np.uint32}


def read_safetensors(path):
    """Map every tensor of one safetensors file: name -> (dtype string, shape, array)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        dt = ST_DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        out[name] = (info["dtype"], info["shape"], data[lo:hi].view(dt).reshape(info["shape"]))
    return out


def load_tensors(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(model_dir, name)))
    return tensors


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: halves of each head to pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def mlx_q4_to_q4_1(packed, scales, biases, group):
    """MLX affine 4-bit rows (codes low nibble first in uint32 words) as Q4_1 bytes.

    Returns uint8 (rows, cols/32*20): per block of 32, F16 d, F16 m, then 16
    bytes whose low nibbles are values 0..15 and high nibbles 16..31.
    """
    rows = packed.shape[0]
    words = np.ascontiguousarray(packed).view(np.uint32)
    shifts = np.arange(8, dtype=np.uint32) * 4
    q = ((words[:, :, None] >> shifts) & 0xF).astype(np.uint8).reshape(rows, -1)  # (rows, cols)
    cols = q.shape[1]
    if group % 32 != 0 or cols % group != 0:
        raise ValueError(f"group {group} does not split into Q4_1 blocks of 32")
    blocks = q.reshape(rows, cols // 32, 32)
    qs = blocks[:, :, :16] | (blocks[:, :, 16:] << 4)  # (rows, nb, 16)
    per = group // 32
    d = np.repeat(np.asarray(scales, dtype=np.float16), per, axis=1)  # (rows, nb)
    m = np.repeat(np.asarray(biases, dtype=np.float16), per, axis=1)
    out = np.empty((rows, cols // 32, 20), dtype=np.uint8)
    out[:, :, 0:2] = d.view(np.uint8).reshape(rows, cols // 32, 2)
    out[:, :, 2:4] = m.view(np.uint8).reshape(rows, cols // 32, 2)
    out[:, :, 4:] = qs
    return out.reshape(rows, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY", ""), help="llama.cpp's gguf-py folder")
    args = ap.parse_args()
    if args.gguf_py:
        sys.path.insert(0, args.gguf_py)
    import gguf  # noqa: E402  (found through --gguf-py)

    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "llama":
        sys.exit(f"{args.model_dir}: model_type {cfg.get('model_type')!r}: only the generated Llama is handled")
    quant = cfg.get("quantization")
    if quant and (quant.get("bits") != 4 or quant.get("group_size", 64) % 32):
        sys.exit(f"{args.model_dir}: MLX {quant.get('bits')}-bit has no exact GGUF type; "
                 "make Q8_0 with llama-quantize from the F32 file instead")
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hidden = cfg["hidden_size"]
    head_dim = cfg.get("head_dim") or hidden // n_head
    vocab = cfg["vocab_size"]

    tensors = load_tensors(args.model_dir)
    src = tensors["model.layers.0.self_attn.q_proj.weight"][0]
    ftype = {"F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
             "BF16": gguf.LlamaFileType.MOSTLY_BF16, "U32": gguf.LlamaFileType.MOSTLY_Q4_1}[src]

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(os.path.basename(os.path.normpath(args.model_dir)))
    w.add_file_type(ftype)
    w.add_vocab_size(vocab)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(hidden)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    w.add_layer_norm_rms_eps(float(cfg["rms_norm_eps"]))

    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581t{i}".encode() for i in range(len(tokens), vocab)]
    types += [gguf.TokenType.NORMAL] * (vocab - len(types))
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores([-float(i) for i in range(vocab)])
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(cfg.get("bos_token_id", 1))
    w.add_eos_token_id(cfg.get("eos_token_id", 2))
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    names = {"model.embed_tokens": "token_embd", "lm_head": "output", "model.norm": "output_norm"}
    layer = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
             "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}

    def gguf_name(base):
        if base in names:
            return names[base]
        parts = base.split(".")  # model.layers.N.rest
        return f"blk.{parts[2]}.{layer['.'.join(parts[3:])]}"

    bases = sorted({n.rsplit(".", 1)[0] for n in tensors}, key=lambda b: (b.count("."), b))
    for base in bases:
        dtype, shape, arr = tensors[base + ".weight"]
        heads = n_head if base.endswith("q_proj") else n_kv if base.endswith("k_proj") else 0
        name = gguf_name(base) + ".weight"
        if dtype == "U32":
            group = quant.get("group_size", 64)
            scales, biases = tensors[base + ".scales"][2], tensors[base + ".biases"][2]
            rows = arr.shape[0]
            if heads:  # permute whole rows: codes, scales and biases alike
                arr, scales, biases = (permute(np.asarray(a), heads) for a in (arr, scales, biases))
            q = mlx_q4_to_q4_1(arr, scales, biases, group)
            w.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q4_1)
            assert q.shape[0] == rows
            continue
        a = np.asarray(arr)
        if heads:
            a = permute(a, heads)
        if len(shape) == 1:  # norms are F32 in every llama.cpp file type
            a = a.astype(np.float32) if dtype != "BF16" else (a.astype(np.uint32) << 16).view(np.float32)
            w.add_tensor(name, np.ascontiguousarray(a))
        elif dtype == "BF16":
            w.add_tensor(name, np.ascontiguousarray(a), raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            w.add_tensor(name, np.ascontiguousarray(a))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
