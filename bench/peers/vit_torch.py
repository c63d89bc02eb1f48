#!/usr/bin/env python3
"""A plain PyTorch ViT/DeiT in timm's layout, the FP32 baseline of the peer benchmarks.

timm semantics: pre-norm blocks, LayerNorm eps 1e-6, exact (erf) GELU, class token, qkv as one Linear
split as reshape(B, N, 3, heads, head_dim), q scaled by head_dim**-0.5 before q @ k^T. Tensor names are
timm's (patch_embed.proj.weight, cls_token, pos_embed, blocks.N.attn.qkv.weight, ...), so a timm
model.safetensors loads with strict=True.

Run as a script to check it against shared/models/vit_tiny_patch16_224/reference.safetensors:
    /usr/bin/python3 bench/peers/vit_torch.py --check
    /usr/bin/python3 bench/peers/vit_torch.py --arch deit_small --threads 1   # random weights, one forward
Needs only torch and numpy (Debian python3-torch); the safetensors reader is below.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent


def shared_dir() -> Path:
    """shared/ beside the project's clone, or $INTVIT_SHARED_DIR."""
    env = os.environ.get("INTVIT_SHARED_DIR")
    return Path(env) if env else HERE.parent.parent.parent / "shared"


def real_model_dir() -> Path:
    return shared_dir() / "models" / "vit_tiny_patch16_224"


@dataclass(frozen=True)
class ViTGeometry:
    embed_dim: int
    depth: int
    num_heads: int
    mlp_ratio: float = 4.0
    patch_size: int = 16
    img_size: int = 224
    num_classes: int = 1000


ARCHS = {
    "vit_tiny": ViTGeometry(192, 12, 3),
    "deit_small": ViTGeometry(384, 12, 6),
    "vit_base": ViTGeometry(768, 12, 12),
}

sys.path.insert(0, str(HERE))
from images import normalise_pixels  # noqa: E402  (re-exported: mean = std = 0.5, NCHW float32)

# ---------------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
# then the raw little-endian data.
_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I32": np.int32,
              "I64": np.int64, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "BOOL": np.bool_}


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """All tensors of a .safetensors file as numpy arrays (copies), and its __metadata__."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > len(blob) - 8:
        raise ValueError(f"{path}: header length {header_len} exceeds the file")
    header = json.loads(blob[8:8 + header_len])
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * np.dtype(dtype).itemsize or end > len(data):
            raise ValueError(f"{path}: tensor {name} has inconsistent offsets {begin}..{end}")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


# ---------------------------------------------------------------------------------------------------
class PatchEmbed(nn.Module):
    def __init__(self, g: ViTGeometry):
        super().__init__()
        self.proj = nn.Conv2d(3, g.embed_dim, kernel_size=g.patch_size, stride=g.patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D]


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, g: ViTGeometry):
        super().__init__()
        d = g.embed_dim
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.attn = Attention(d, g.num_heads)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.mlp = Mlp(d, int(d * g.mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """Input: normalised float NCHW [B, 3, 224, 224]; output: logits [B, num_classes]."""

    def __init__(self, g: ViTGeometry):
        super().__init__()
        self.geometry = g
        num_patches = (g.img_size // g.patch_size) ** 2
        self.patch_embed = PatchEmbed(g)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, g.embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, g.embed_dim))
        self.blocks = nn.Sequential(*[Block(g) for _ in range(g.depth)])
        self.norm = nn.LayerNorm(g.embed_dim, eps=1e-6)
        self.head = nn.Linear(g.embed_dim, g.num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])

    def init_random(self, seed: int) -> None:
        """timm-like init (truncated normal std 0.02, zero biases, unit LayerNorm) with a fixed seed,
        for timing models whose pretrained weights are not on this machine."""
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias") or ".norm" in name or name.startswith("norm."):
                    p.copy_(torch.ones_like(p) if name.endswith("weight") else torch.zeros_like(p))
                else:
                    p.copy_((torch.randn(p.shape, generator=gen) * 0.02).clamp_(-0.04, 0.04))


def build_model(arch: str, weights: Path | None = None, seed: int = 0) -> VisionTransformer:
    """arch's geometry with weights from a timm model.safetensors, or seeded random weights."""
    model = VisionTransformer(ARCHS[arch])
    if weights is not None:
        tensors, _ = read_safetensors(weights)
        state = {k: torch.from_numpy(v) for k, v in tensors.items()}
        model.load_state_dict(state, strict=True)
    else:
        model.init_random(seed)
    return model.eval()


def check_against_reference(threads: int, batch: int = 20) -> float:
    """Max |logits - reference logits| over the 100 reference images; raises if above 1e-4."""
    ref_path = real_model_dir() / "reference.safetensors"
    ref, _ = read_safetensors(ref_path)
    model = build_model("vit_tiny", real_model_dir() / "model.safetensors")
    torch.set_num_threads(threads)
    x = normalise_pixels(ref["pixels"])
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            outs.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    logits = np.concatenate(outs)
    err = float(np.abs(logits - ref["logits"]).max())
    agree = float((logits.argmax(1) == ref["logits"].argmax(1)).mean())
    top1 = float((logits.argmax(1) == ref["class_index"]).mean())
    print(f"vit_tiny vs {ref_path.name}: max |logit error| = {err:.3g}, argmax agreement = "
          f"{agree * 100:.1f} %, top-1 on these 100 = {top1 * 100:.1f} %")
    if err > 1e-4:
        raise SystemExit(f"FAIL: max abs logit error {err:.3g} > 1e-4")
    return err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare vit_tiny with reference.safetensors")
    ap.add_argument("--arch", choices=sorted(ARCHS), default="vit_tiny")
    ap.add_argument("--weights", type=Path, help="timm model.safetensors (default: random weights)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.check:
        check_against_reference(args.threads)
        return 0
    torch.set_num_threads(args.threads)
    model = build_model(args.arch, args.weights, args.seed)
    x = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        y = model(x)
        dt = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch}: {params / 1e6:.2f} M parameters, logits {tuple(y.shape)}, "
          f"one forward of batch {args.batch} on {args.threads} thread(s): {dt * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
