#!/usr/bin/env python3
"""Swin geometries of the peer benchmarks with seeded random weights, and a check that their ONNX export is right.

The model is models/default/swin_torch.py (timm semantics and names, verified against intvit's C++ FP32
forward); this file only adds the geometry, the random weights and the export check. No pretrained Swin
is on this machine, so these rows time the geometry (accuracy does not apply).

Random weights are scaled by fan-in (activations stay O(1) through every stage) and the relative-position
bias tables are N(0, 1), as in tests/golden/make_swin_golden.py: with timm's std 0.02 init the bias would
barely move the attention, and an export that dropped it would still pass the check below.

    bench/peers/.venv/bin/python bench/peers/swin_random.py --check   # export swin_tiny, ORT FP32 vs PyTorch
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "models" / "default"))
import engines  # noqa: E402
from swin_torch import build_swin, swin_config  # noqa: E402

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

# timm's swin_tiny_patch4_window7_224: embed 96, depths [2, 2, 6, 2], heads [3, 6, 12, 24], window 7.
CONFIGS = {
    "swin_tiny": swin_config("swin_tiny_patch4_window7_224", 224, 4, 96, [2, 2, 6, 2], [3, 6, 12, 24], 7, 4.0,
                             1000, IMAGENET_MEAN, IMAGENET_STD, crop_pct=0.9),
}


def init_random(model: torch.nn.Module, seed: int) -> None:
    """Seeded weights: LayerNorm gain 1 and bias 0, other biases N(0, 0.02), relative-position bias tables
    N(0, 1), every other weight N(0, 1) / sqrt(fan_in)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if ".norm" in name or name.startswith("norm."):
                p.fill_(1.0 if leaf == "weight" else 0.0)
            elif leaf == "bias":
                p.copy_(0.02 * torch.randn(p.shape, generator=gen))
            elif leaf == "relative_position_bias_table":
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p[0].numel() ** 0.5)


def build_model(arch: str, seed: int = 0) -> torch.nn.Module:
    model = build_swin(CONFIGS[arch])
    init_random(model, seed)
    return model.eval()


def _ablation_effect(model: torch.nn.Module, x: torch.Tensor, expected: torch.Tensor, what: str) -> float:
    """Max |logit change| when one Swin ingredient of (a fresh copy of) the model is switched off: shows
    that the export check would see it missing."""
    for module in model.modules():
        if what == "bias" and hasattr(module, "relative_position_bias_table"):
            module.relative_position_bias_table.data.zero_()
        elif what == "shift" and getattr(module, "shift", 0):
            module.shift, module.attn_mask = 0, None
    with torch.no_grad():
        return float((model(x) - expected).abs().max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="export to ONNX and compare ONNX Runtime with PyTorch")
    ap.add_argument("--arch", choices=sorted(CONFIGS), default="swin_tiny")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = build_model(args.arch, args.seed)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch}: {params / 1e6:.2f} M parameters (seed {args.seed})")
    if not args.check:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{args.arch}.onnx"
        engines.export_onnx(model, path)
        err, bound = engines.check_onnx_export(model, path, args.seed)
    x = torch.from_numpy(np.random.default_rng(args.seed).standard_normal((2, 3, 224, 224), dtype=np.float32))
    with torch.no_grad():
        expected = model(x)
    effects = {what: _ablation_effect(build_model(args.arch, args.seed), x, expected, what)
               for what in ("bias", "shift")}
    print(f"ONNX Runtime FP32 vs PyTorch: max |logit difference| {err:.3g} (bound {bound:.3g}, max |logit| "
          f"{float(expected.abs().max()):.3g}); without the relative-position bias the logits move by "
          f"{effects['bias']:.3g}, without shifted windows + mask by {effects['shift']:.3g}")
    weak = [what for what, effect in effects.items() if effect <= 10 * bound]
    if weak:
        raise SystemExit(f"FAIL: the check cannot see a missing {', '.join(weak)} (effect <= 10x the bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
