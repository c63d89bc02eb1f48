#!/usr/bin/python3
"""FP32 parity oracles for intvit's Swin Transformer forward (models/swin_fp32.cc).

Runs with Debian's /usr/bin/python3 (torch 1.13, numpy; no timm). The Swin module is
models/default/swin_torch.py, written to timm's semantics and tensor names. For each tiny random-weight
config below it writes tests/data/swin/<name>/:
  config.json            timm-style (architecture + model_args + pretrained_cfg)
  model.safetensors      random FP32 weights (every parameter non-trivial: LayerNorm gains and biases,
                         a relative position bias table large enough to change the attention)
  reference.safetensors  pixels U8 [N,H,W,3] (random RGB HWC), logits F32 [N,classes] from the FP32
                         PyTorch forward of x = (pixels/255 - mean)/std in NCHW
The configs between them cover shifted windows with the 9-region mask at two stages, patch merging
twice, the timm clamp of the window to a stage resolution that equals it and one smaller than it, and
both checkpoint layouts (timm >= 0.9: merge in layers.N.downsample at the start of stage N and head.fc;
timm < 0.9: merge at the end of stage N-1, head, a saved relative_position_index buffer).

  /usr/bin/python3 tests/golden/make_swin_golden.py     # rewrites tests/data/swin/
"""

import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "default"))
import train_fashion_mnist as tfm  # noqa: E402  (safetensors writer)
from swin_torch import build_swin, relative_position_index, swin_config  # noqa: E402

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
NUM_IMAGES = 8

CONFIGS = [
    # name, config, legacy layout
    ("shift_merge_3stages",
     swin_config("swin_golden_shift_merge", 32, 2, 8, [2, 2, 2], [1, 2, 2], 4, 2.0, 10, IMAGENET_MEAN,
                 IMAGENET_STD), False),
    ("fashion_geometry",
     swin_config("swin_golden_fashion_geometry", 28, 2, 8, [2, 2], [2, 4], 7, 2.0, 10, (0.5,) * 3, (0.5,) * 3),
     False),
    ("clamped_window_legacy_names",
     swin_config("swin_golden_clamped_legacy", 24, 4, 8, [1, 2], [1, 2], 7, 1.3, 5, IMAGENET_MEAN, IMAGENET_STD),
     True),
]


def randomize(model, generator):
    """Replaces every parameter with seeded random values of a scale that keeps activations O(1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if "norm" in name and leaf == "weight":
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.startswith("head"):
                p.copy_(2.0 * torch.randn(p.shape, generator=generator) / p[0].numel() ** 0.5 if p.ndim > 1
                        else torch.zeros(p.shape))
            elif leaf == "bias":
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
            elif leaf == "relative_position_bias_table":
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5)


def random_images(size, generator):
    """Distinct images so that the logits differ and the top-1 classes are not all the same: image i is
    a random colour pattern of a different cell count, upsampled, plus noise of a different amplitude."""
    images = []
    for i in range(NUM_IMAGES):
        cells, amplitude = (1, 2, 4, 7)[i % 4], (8, 32, 64, 128)[(i // 4 + i) % 4]
        coarse = torch.randint(0, 256, (cells, cells, 3), generator=generator).float()
        reps = -(-size // cells)
        up = coarse.repeat_interleave(reps, 0).repeat_interleave(reps, 1)[:size, :size]
        noise = torch.randint(-amplitude, amplitude + 1, up.shape, generator=generator).float()
        images.append((up + noise).clamp(0, 255).to(torch.uint8))
    return torch.stack(images)


def legacy_names(state, num_stages, window_of_block):
    """timm < 0.9 names: merge into stage s lives at layers.(s-1).downsample, head.fc -> head, and the
    relative_position_index buffers are saved."""
    out = {}
    for name, t in state.items():
        parts = name.split(".")
        if parts[0] == "layers" and parts[2] == "downsample":
            parts[1] = str(int(parts[1]) - 1)
        if parts[:2] == ["head", "fc"]:
            parts = ["head"] + parts[2:]
        out[".".join(parts)] = t
    for block, ws in window_of_block.items():
        out[block + ".attn.relative_position_index"] = relative_position_index(ws)
    return out


def main():
    torch.set_num_threads(1)
    for index, (name, cfg, legacy) in enumerate(CONFIGS):
        generator = torch.Generator().manual_seed(1000 + index)
        model = build_swin(cfg).eval()
        randomize(model, generator)
        a, pc = cfg["model_args"], cfg["pretrained_cfg"]
        size = a["img_size"]
        pixels = random_images(size, generator)
        x = pixels.float().div(255.0).permute(0, 3, 1, 2)
        x = (x - torch.tensor(pc["mean"]).view(1, 3, 1, 1)) / torch.tensor(pc["std"]).view(1, 3, 1, 1)
        with torch.no_grad():
            logits = model(x.contiguous())
            logits64 = model.double()(x.double().contiguous())
        model.float()
        err64 = float((logits.double() - logits64).abs().max())

        state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
        if legacy:
            windows = {f"layers.{s}.blocks.{j}": blk.ws for s, st in enumerate(model.layers)
                       for j, blk in enumerate(st.blocks)}
            state = legacy_names(state, len(a["depths"]), windows)
        out_dir = os.path.join(ROOT, "tests", "data", "swin", name)
        os.makedirs(out_dir, exist_ok=True)
        tensors = [(k, state[k].numpy().astype(np.int64 if state[k].dtype == torch.int64 else np.float32))
                   for k in sorted(state)]
        tfm.write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors,
                              {"format": "pt", "source": "tests/golden/make_swin_golden.py (random weights)"})
        with open(os.path.join(out_dir, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        tfm.write_safetensors(os.path.join(out_dir, "reference.safetensors"), [
            ("pixels", pixels.numpy()),
            ("logits", logits.numpy().astype(np.float32)),
        ], {
            "source": "tests/golden/make_swin_golden.py",
            "preprocess": "random uint8 RGB HWC pixels; logits from the FP32 PyTorch forward (eval) of "
                          "x = (pixels/255 - mean)/std in NCHW with config.json's mean/std",
            "layout": "timm < 0.9" if legacy else "timm >= 0.9",
        })
        spread = float(logits.std())
        print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, logits std {spread:.3g}, "
              f"max |fp32 - fp64| {err64:.3g}, top-1 {logits.argmax(1).tolist()}")


if __name__ == "__main__":
    main()
