#!/usr/bin/python3
"""Train intvit's small Fashion-MNIST Swin Transformer (timm layout, see swin_torch.py).

Same data, augmentation, optimiser, bf16-matmul training and export as the default ViT: this script only
supplies the Swin config and model to train_fashion_mnist.train(). Writes into --out (default
fashion-swin/): model.safetensors (timm >= 0.9 Swin names), config.json, labels.txt and
reference.safetensors (first 64 test images as RGB HWC pixels, their FP32 PyTorch logits and labels).

  /usr/bin/python3 models/default/train_fashion_swin.py              # train + export
  /usr/bin/python3 models/default/train_fashion_swin.py --eval-only  # FP32 test accuracy of the export
"""

import argparse
import os
import sys

import numpy as np
import torch

import train_fashion_mnist as tfm
from swin_torch import build_swin, swin_config


def make_config(args):
    return swin_config(f"swin_fashion_patch{args.patch_size}_window{args.window_size}_28", 28, args.patch_size,
                       args.embed_dim, args.depths, args.num_heads, args.window_size, args.mlp_ratio,
                       len(tfm.LABELS), tfm.MEAN, tfm.STD, interpolation="bilinear", crop_pct=1.0)


def check_reference(out_dir):
    """The stored FP32 logits against a float64 forward of the reloaded files."""
    model, _ = tfm.load_model(out_dir, build_swin)
    ref, _ = tfm.read_safetensors(os.path.join(out_dir, "reference.safetensors"))
    x = torch.from_numpy(ref["pixels"]).double().div(255.0).permute(0, 3, 1, 2)
    x = (x - torch.tensor(tfm.MEAN, dtype=torch.float64).view(1, 3, 1, 1)) / \
        torch.tensor(tfm.STD, dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        logits64 = model.double()(x.contiguous()).numpy()
    err = float(np.abs(logits64 - ref["logits"]).max())
    same_argmax = bool((logits64.argmax(1) == ref["logits"].argmax(1)).all())
    correct = int((ref["logits"].argmax(1) == ref["class_index"]).sum())
    print(f"reference: max |float64 - stored fp32 logits| = {err:.3g}, argmax agree: {same_argmax}, "
          f"{correct}/{len(ref['class_index'])} correct")
    if err > 1e-3 or not same_argmax:
        raise RuntimeError("stored reference logits disagree with the float64 forward")
    return err


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(here, "fashion-swin"))
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--min-lr", type=float, default=1e-5)
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--clip-grad", type=float, default=1.0)
    parser.add_argument("--crop-padding", type=int, default=0)
    parser.add_argument("--no-augment", dest="augment", action="store_false")
    parser.add_argument("--fp32-training", dest="bf16", action="store_false")
    parser.add_argument("--patch-size", type=int, default=2)
    parser.add_argument("--embed-dim", type=int, default=32)
    parser.add_argument("--depths", type=int, nargs="+", default=[2, 2])
    parser.add_argument("--num-heads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--window-size", type=int, default=7)
    parser.add_argument("--mlp-ratio", type=float, default=2.0)
    args = parser.parse_args()
    args.samples = None  # the ViT's samples/ stay as they are
    torch.set_num_threads(args.threads)
    if args.eval_only:
        model, _ = tfm.load_model(args.out, build_swin)
        images, labels = tfm.load_split("test")
        acc = tfm.accuracy(tfm.predict_logits(model, images), labels)
        print(f"FP32 test accuracy of {args.out}/model.safetensors: {100 * acc:.2f}% "
              f"({int(round(acc * len(labels)))}/{len(labels)})")
        check_reference(args.out)
        return
    tfm.train(args, make_config(args), build_swin, ("cls_token", "pos_embed", "relative_position_bias_table"),
              check_reference)


if __name__ == "__main__":
    sys.exit(main())
