"""The architectures the peers run, by the name --arch takes, and where each model comes from.

Torch-free at import: the OpenVINO worker hides torch (engines.block_torch_import), so the model modules
load only in build_model.
"""
from __future__ import annotations

from pathlib import Path

VIT_ARCHS = ("vit_tiny", "deit_small", "vit_base")  # vit_torch.ARCHS
SWIN_ARCHS = ("swin_tiny",)                         # swin_random.CONFIGS
ARCHS = VIT_ARCHS + SWIN_ARCHS

# timm's full names: intvit-bench's JSON may name its rows either way.
TIMM_NAMES = {
    "vit_tiny": "vit_tiny_patch16_224",
    "deit_small": "deit_small_patch16_224",
    "vit_base": "vit_base_patch16_224",
    "swin_tiny": "swin_tiny_patch4_window7_224",
}


def build_model(arch: str, weights: Path | None = None, seed: int = 0):
    """arch's PyTorch model in eval mode: timm weights from a model.safetensors (ViT only) or seeded random."""
    if arch in SWIN_ARCHS:
        if weights is not None:
            raise ValueError(f"{arch}: no pretrained weights are supported, only seeded random ones")
        import swin_random

        return swin_random.build_model(arch, seed)
    import vit_torch

    return vit_torch.build_model(arch, weights, seed)
