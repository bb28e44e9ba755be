#!/usr/bin/env python3
"""Writes the test images of engine/vision and the pixel_values that
transformers' Gemma3ImageProcessor (slow, PIL) computes for them.

Run from this folder with Pillow and numpy (Debian: python3-pil python3-numpy):
    python3 gen.py
The Go tests read the outputs only; they never run Python.

transformers itself is not importable where this was written (no PyPI), so the
processor's numpy steps are transcribed here line for line from
image_processing_gemma3.py / image_transforms.py (load_image, resize, rescale,
normalize, to_channel_dimension_format); every pixel operation is PIL's own.
"""
import hashlib
import io
import json

import numpy as np
import PIL
import PIL.ImageFilter
import PIL.ImageOps
from PIL import Image


def load_image(data):
    """transformers.image_utils.load_image for bytes."""
    image = Image.open(io.BytesIO(data))
    image = PIL.ImageOps.exif_transpose(image)
    return image.convert("RGB")


def preprocess(image, cfg):
    """Gemma3ImageProcessor.preprocess of one RGB PIL image, without pan and scan."""
    arr = np.array(image)  # to_numpy_array: (H, W, 3) uint8
    if cfg["do_resize"]:
        # image_transforms.resize: uint8 goes to PIL unscaled, and back.
        pil = Image.fromarray(arr)
        arr = np.array(pil.resize((cfg["size"]["width"], cfg["size"]["height"]), resample=cfg["resample"], reducing_gap=None))
    if cfg["do_rescale"]:
        arr = (arr.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    if cfg["do_normalize"]:
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float32)
        mean = np.array(cfg["image_mean"], dtype=arr.dtype)
        std = np.array(cfg["image_std"], dtype=arr.dtype)
        arr = (arr - mean) / std
    return arr.transpose((2, 0, 1))  # ChannelDimension.FIRST


def gemma(h, w, resample=2, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    return {"image_processor_type": "Gemma3ImageProcessor", "do_resize": True, "size": {"height": h, "width": w},
            "resample": resample, "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
            "image_mean": list(mean), "image_std": list(std)}


def pattern(w, h, seed):
    """Smooth gradients plus noise and a hard edge: every filter tap matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / (w - 1), y * 255 / (h - 1), (x + y) * 255 / (w + h - 2)], axis=-1)
    base += rng.normal(0, 40, size=base.shape)
    base[:, w // 3] = [255, 0, 0]
    return np.clip(base, 0, 255).astype(np.uint8)


def encode(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def main():
    rgb = Image.fromarray(pattern(37, 23, 1))
    files = {
        "rgb.png": encode(rgb, "PNG"),
        "rgba.png": encode(Image.fromarray(np.dstack([pattern(37, 23, 2), pattern(37, 23, 3)[..., 0]])), "PNG"),
        "gray.png": encode(Image.fromarray(pattern(29, 41, 4)[..., 1]), "PNG"),
        "palette.png": encode(rgb.quantize(31), "PNG"),
        "rgb.gif": encode(rgb, "GIF", save_all=True, append_images=[Image.fromarray(pattern(37, 23, 5))]),
        "lossless.webp": encode(rgb, "WEBP", lossless=True),
        "lossy.webp": encode(rgb, "WEBP", quality=90),
        "lossy-alpha.webp": encode(Image.fromarray(np.dstack([pattern(37, 23, 6), pattern(37, 23, 7)[..., 0]])), "WEBP", quality=80),
        "q95-444.jpg": encode(rgb, "JPEG", quality=95, subsampling=0),
        "q90-420.jpg": encode(rgb, "JPEG", quality=90, subsampling=2),
        "q90-422.jpg": encode(rgb, "JPEG", quality=90, subsampling=1),
    }
    for o in (3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = o
        files[f"exif{o}.jpg"] = encode(rgb, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
    for o, fmt in ((5, "PNG"), (7, "WEBP")):
        exif = Image.Exif()
        exif[0x0112] = o
        files[f"exif{o}.{fmt.lower()}"] = encode(rgb, fmt, exif=exif.tobytes(), **({"lossless": True} if fmt == "WEBP" else {}))
    # A photo-sized JPEG (4:2:0, turned by EXIF) for the whole path at a
    # large downscale, where the filter's support spans ~15 source pixels.
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = Image.fromarray(pattern(601, 401, 8)).filter(PIL.ImageFilter.GaussianBlur(2))
    files["photo.jpg"] = encode(photo, "JPEG", quality=85, exif=exif.tobytes())
    # A GIF whose transparent palette entry has a colour: PIL keeps it.
    pal = rgb.quantize(16)
    files["transparent.gif"] = encode(pal, "GIF", transparency=int(np.array(pal)[0, 0]))
    cases = []
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(data)
        exact = not name.endswith(".jpg")
        img = load_image(data)
        decoded = np.array(img)
        keep_rgb = name != "photo.jpg"  # 700 kB: its pixel_values are compared instead
        if keep_rgb:
            with open(name + ".rgb", "wb") as f:
                f.write(decoded.tobytes())
        configs = [("down", gemma(12, 16)), ("up", gemma(31, 50))]
        if name == "photo.jpg":
            configs = [("down", gemma(40, 27))]
        if name == "rgb.png":
            configs += [("mixed", gemma(10, 60)), ("bicubic", gemma(12, 16, 3)), ("lanczos", gemma(31, 50, 1)),
                        ("box", gemma(9, 11, 4)), ("hamming", gemma(17, 13, 5)),
                        ("clip", gemma(12, 16, 3, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)))]
        for cname, cfg in configs:
            out = preprocess(img, cfg)
            assert out.dtype == np.float32
            fname = f"{name}.{cname}.f32"
            with open(fname, "wb") as f:
                f.write(out.astype("<f4").tobytes())
            cases.append({"image": name, "exact": exact, "config": cfg, "pixels": fname,
                          "decoded": [decoded.shape[1], decoded.shape[0]], "rgb": keep_rgb})
    # The real processor at 896x896, held as a hash (the tensor is 9.6 MB).
    with open("gemma-3-4b-it.preprocessor_config.json") as f:
        real = json.load(f)
    out = preprocess(load_image(files["rgb.png"]), real)
    cases.append({"image": "rgb.png", "exact": True, "config_file": "gemma-3-4b-it.preprocessor_config.json",
                  "sha256": hashlib.sha256(out.astype("<f4").tobytes()).hexdigest()})
    with open("cases.json", "w") as f:
        json.dump({"pillow": PIL.__version__, "numpy": np.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


main()
