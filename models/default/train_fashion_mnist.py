#!/usr/bin/python3
"""Train intvit's shipped default model: a small ViT on Fashion-MNIST.

Runs with Debian's /usr/bin/python3 (torch 1.13, numpy, PIL); no timm, no safetensors package.
Reads the IDX files of the Debian package dataset-fashion-mnist and writes, into --out:
  model.safetensors      FP32 weights with timm's ViT tensor names and shapes
  config.json            timm-style config (same keys as shared/models/vit_tiny_patch16_224/config.json)
  labels.txt             the 10 class names in class-index order
  reference.safetensors  parity oracle: first 64 test images (pixels U8 [64,28,28,3]), their FP32 logits
                         (F32 [64,10]) and true labels (class_index I32 [64])
and ../samples/<class>.png: one correctly classified 28x28 grayscale test image per class.

Model input: the grayscale image replicated into R, G, B (the engine converts every image to RGB),
x = (pixel / 255 - mean) / std with mean = std = 0.5, NCHW.

Training runs the matmuls in bfloat16 with FP32 master weights (explicit casts, not autocast): the Debian
torch build calls the reference (netlib) BLAS for FP32 GEMM at ~6 GFLOP/s, while oneDNN's bf16 GEMM runs
at ~270 GFLOP/s on one core. LayerNorm, softmax, GELU and the loss stay FP32. Evaluation, the reported
accuracy and the reference logits are pure FP32.

  /usr/bin/python3 models/default/train_fashion_mnist.py              # train + export (~15 min, 1 thread)
  /usr/bin/python3 models/default/train_fashion_mnist.py --eval-only  # FP32 test accuracy of the export
"""

import argparse
import gzip
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATASET_DIR = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]
LAYER_NORM_EPS = 1e-6
NUM_REFERENCE_IMAGES = 64


# ----------------------------------------------------------------------------------------------- data

def read_idx(path):
    """Parses a gzipped IDX file (big-endian header: 0, 0, dtype 0x08 = u8, ndim; then ndim u32 sizes)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape}, got {array.size} bytes")
    return array.reshape(shape)


def load_split(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(DATASET_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATASET_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def to_input(gray_u8):
    """uint8 [B,28,28] -> normalised float32 NCHW [B,3,28,28] (gray replicated into R,G,B)."""
    x = torch.from_numpy(np.ascontiguousarray(gray_u8)).float().div(255.0)
    x = x.unsqueeze(1).expand(-1, 3, -1, -1)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


def augment(gray_u8, generator, pad):
    """Random crop with zero padding + random horizontal flip, on a uint8 batch [B,H,W]."""
    b, h, w = gray_u8.shape
    padded = np.pad(gray_u8, ((0, 0), (pad, pad), (pad, pad)))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).numpy()
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).numpy()
    flip = torch.rand(b, generator=generator).numpy() < 0.5
    rows = dy[:, None] + np.arange(h)[None, :]
    cols = dx[:, None] + np.arange(w)[None, :]
    cols = np.where(flip[:, None], cols[:, ::-1], cols)
    return padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]


# ---------------------------------------------------------------------------------------------- model

class Precision:
    """Dtype used for the matmuls; FP32 unless training switches to bfloat16."""
    matmul_dtype = torch.float32


def matmul_linear(x, weight, bias, low_precision_out=False):
    """F.linear; in bf16 mode the result stays bf16 if it only feeds another matmul."""
    dt = Precision.matmul_dtype
    if dt == torch.float32:
        return F.linear(x, weight, bias)
    y = F.linear(x.to(dt), weight.to(dt), bias.to(dt))
    return y if low_precision_out else y.float()


def matmul(a, b, low_precision_out=False):
    dt = Precision.matmul_dtype
    if dt == torch.float32:
        return a @ b
    y = a.to(dt) @ b.to(dt)
    return y if low_precision_out else y.float()


class Linear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.trunc_normal_(self.weight, std=0.02)

    def forward(self, x, low_precision_out=False):
        return matmul_linear(x, self.weight, self.bias, low_precision_out)


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)  # weight [D,3,P,P] as timm

    def forward(self, x):
        # Non-overlapping conv == linear over flattened (c, kh, kw) patches; same order as the weight.
        b, c, h, w = x.shape
        p = self.patch_size
        patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        patches = patches.reshape(b, (h // p) * (w // p), c * p * p)
        return matmul_linear(patches, self.proj.weight.reshape(self.proj.out_channels, -1), self.proj.bias)


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = Linear(dim, 3 * dim)
        self.proj = Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x, low_precision_out=True)
        qkv = qkv.reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                      # [B,H,N,hd]
        attn = (matmul(q, k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        out = matmul(attn, v, low_precision_out=True).transpose(1, 2).reshape(b, n, d)  # concat heads
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = Linear(dim, hidden)
        self.fc2 = Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def sincos_pos_embed(grid_size, dim):
    """2-D sine-cosine position table as in MAE, [1 + grid_size**2, dim], zeros for the class token.
    Only an initialisation: pos_embed stays a learned parameter."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    coords = torch.arange(grid_size, dtype=torch.float64)
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")
    parts = []
    for g in (gy.reshape(-1), gx.reshape(-1)):
        angle = g[:, None] * omega[None, :]
        parts += [angle.sin(), angle.cos()]
    table = torch.cat(parts, dim=1)
    table = F.pad(table, (0, dim - table.shape[1]))
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float()


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, num_classes):
        super().__init__()
        num_patches = (img_size // patch_size) ** 2
        self.patch_embed = PatchEmbed(patch_size, 3, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + num_patches, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=LAYER_NORM_EPS)
        self.head = Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def build_model(cfg):
    a = cfg["model_args"]
    return VisionTransformer(a["img_size"], a["patch_size"], a["embed_dim"], a["depth"], a["num_heads"],
                             a["mlp_ratio"], cfg["num_classes"])


def make_config(args):
    return {
        "architecture": f"vit_fashion_patch{args.patch_size}_28",
        "num_classes": len(LABELS),
        "num_features": args.embed_dim,
        "model_args": {
            "img_size": 28,
            "patch_size": args.patch_size,
            "embed_dim": args.embed_dim,
            "depth": args.depth,
            "num_heads": args.num_heads,
            "mlp_ratio": float(args.mlp_ratio),
            "qkv_bias": True,
            "class_token": True,
            "global_pool": "token",
        },
        "pretrained_cfg": {
            "input_size": [3, 28, 28],
            "interpolation": "bilinear",
            "crop_pct": 1.0,
            "crop_mode": "center",
            "mean": MEAN,
            "std": STD,
            "num_classes": len(LABELS),
            "layer_norm_eps": LAYER_NORM_EPS,
            "act_layer": "gelu (erf)",
        },
    }


# ---------------------------------------------------------------------------------------- safetensors

_ST_DTYPES = {np.dtype("<f4"): "F32", np.dtype("uint8"): "U8", np.dtype("<i4"): "I32", np.dtype("<i8"): "I64"}
_ST_NUMPY = {v: k for k, v in _ST_DTYPES.items()}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, numpy array). Layout: u64 LE header size, JSON header padded with spaces
    to a multiple of 8, then the raw little-endian data in header order."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, array in tensors:
        array = np.ascontiguousarray(array)
        dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        array = array.astype(dtype, copy=False)
        blob = array.tobytes()
        header[name] = {"dtype": _ST_DTYPES[np.dtype(dtype)], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=_ST_NUMPY[info["dtype"]], offset=8 + n + begin,
                              count=(end - begin) // _ST_NUMPY[info["dtype"]].itemsize)
        out[name] = array.reshape(info["shape"]).copy()
    return out, metadata


def save_model(model, out_dir, cfg):
    state = model.state_dict()
    tensors = [(name, state[name].detach().float().numpy()) for name in sorted(state)]
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")


def load_model(out_dir, builder=None):
    with open(os.path.join(out_dir, "config.json")) as f:
        cfg = json.load(f)
    model = (builder or build_model)(cfg)
    tensors, _ = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    expected = model.state_dict()
    if set(tensors) != set(expected):
        raise ValueError(f"tensor names differ: {sorted(set(tensors) ^ set(expected))}")
    for name, array in tensors.items():
        if tuple(array.shape) != tuple(expected[name].shape):
            raise ValueError(f"{name}: shape {array.shape}, expected {tuple(expected[name].shape)}")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.eval(), cfg


# ------------------------------------------------------------------------------------------ evaluate

@torch.no_grad()
def predict_logits(model, images, dtype=torch.float32, batch=500):
    model.eval()
    Precision.matmul_dtype = dtype
    try:
        return torch.cat([model(to_input(images[i:i + batch])) for i in range(0, len(images), batch)])
    finally:
        Precision.matmul_dtype = torch.float32


def accuracy(logits, labels):
    return float((logits.argmax(1).numpy() == labels).mean())


def reference_forward_float64(tensors, cfg, pixels_u8):
    """Independent NumPy float64 forward straight from the safetensors tensors (conv patch embed by
    explicit patch extraction, timm qkv split), to check the PyTorch model and the file layout."""
    a = cfg["model_args"]
    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    p, d, h = a["patch_size"], a["embed_dim"], a["num_heads"]
    mean = np.array(cfg["pretrained_cfg"]["mean"])
    std = np.array(cfg["pretrained_cfg"]["std"])
    x = (pixels_u8.astype(np.float64) / 255.0 - mean) / std          # [B,H,W,3]
    b, hh, ww, _ = x.shape
    gh, gw = hh // p, ww // p
    tokens = np.zeros((b, gh * gw, d))
    w = t["patch_embed.proj.weight"]                                   # [D,3,P,P]
    for i in range(gh):
        for j in range(gw):
            patch = x[:, i * p:(i + 1) * p, j * p:(j + 1) * p, :]        # [B,P,P,3]
            tokens[:, i * gw + j] = np.einsum("byxc,dcyx->bd", patch, w) + t["patch_embed.proj.bias"]
    x = np.concatenate([np.broadcast_to(t["cls_token"], (b, 1, d)), tokens], 1) + t["pos_embed"]

    def layer_norm(v, prefix):
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + cfg["pretrained_cfg"]["layer_norm_eps"]) * t[prefix + ".weight"] \
            + t[prefix + ".bias"]

    def linear(v, prefix):
        return v @ t[prefix + ".weight"].T + t[prefix + ".bias"]

    erf = np.vectorize(math.erf)
    hd = d // h
    for i in range(a["depth"]):
        pre = f"blocks.{i}."
        n = x.shape[1]
        qkv = linear(layer_norm(x, pre + "norm1"), pre + "attn.qkv").reshape(b, n, 3, h, hd)
        q, k, v = (qkv[:, :, s].transpose(0, 2, 1, 3) for s in range(3))  # [B,H,N,hd]
        s = q @ k.transpose(0, 1, 3, 2) * hd ** -0.5
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        x = x + linear((s @ v).transpose(0, 2, 1, 3).reshape(b, n, d), pre + "attn.proj")
        y = linear(layer_norm(x, pre + "norm2"), pre + "mlp.fc1")
        y = 0.5 * y * (1.0 + erf(y / math.sqrt(2.0)))
        x = x + linear(y, pre + "mlp.fc2")
    return linear(layer_norm(x, "norm")[:, 0], "head")


def export_reference(model, cfg, out_dir, test_images, test_labels,
                     forward_note="LayerNorm eps 1e-6, erf GELU"):
    gray = test_images[:NUM_REFERENCE_IMAGES]
    pixels = np.repeat(gray[:, :, :, None], 3, axis=3)                # [64,28,28,3] HWC RGB
    # The oracle is model(x) with x built from the exported pixels exactly as documented.
    x = torch.from_numpy(pixels).float().div(255.0).permute(0, 3, 1, 2)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    model.eval()
    Precision.matmul_dtype = torch.float32
    with torch.no_grad():
        logits = model(x.contiguous()).numpy().astype(np.float32)
        again = predict_logits(model, gray, batch=NUM_REFERENCE_IMAGES).numpy()
    if not np.array_equal(logits, again):
        raise RuntimeError("reference logits depend on how the input tensor was built")
    write_safetensors(os.path.join(out_dir, "reference.safetensors"), [
        ("pixels", pixels.astype(np.uint8)),
        ("logits", logits),
        ("class_index", test_labels[:NUM_REFERENCE_IMAGES].astype(np.int32)),
    ], {
        "source": f"Fashion-MNIST t10k images 0..{NUM_REFERENCE_IMAGES - 1} ({DATASET_DIR})",
        "preprocess": "grayscale replicated into R,G,B; pixels uint8 HWC; logits from an FP32 PyTorch "
                      "forward (eval) of x = (pixels/255 - 0.5)/0.5 in NCHW, " + forward_note,
    })
    return pixels, logits


def check_reference(out_dir):
    """Reloads both files and compares the stored logits with the float64 NumPy forward."""
    with open(os.path.join(out_dir, "config.json")) as f:
        cfg = json.load(f)
    tensors, _ = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    ref, _ = read_safetensors(os.path.join(out_dir, "reference.safetensors"))
    logits64 = reference_forward_float64(tensors, cfg, ref["pixels"])
    err = float(np.abs(logits64 - ref["logits"]).max())
    same_argmax = bool((logits64.argmax(1) == ref["logits"].argmax(1)).all())
    correct = int((ref["logits"].argmax(1) == ref["class_index"]).sum())
    print(f"reference: max |float64 numpy - stored fp32 logits| = {err:.3g}, argmax agree: {same_argmax}, "
          f"{correct}/{len(ref['class_index'])} correct")
    if err > 1e-3 or not same_argmax:
        raise RuntimeError("stored reference logits disagree with the float64 forward")
    return err


def export_samples(logits, test_images, test_labels, samples_dir):
    from PIL import Image
    os.makedirs(samples_dir, exist_ok=True)
    predicted = logits.argmax(1).numpy()
    chosen = {}
    for c, label in enumerate(LABELS):
        index = int(np.flatnonzero((test_labels == c) & (predicted == c))[0])
        name = label.lower().replace("/", "_").replace("-", "_").replace(" ", "_") + ".png"
        Image.fromarray(test_images[index], mode="L").save(os.path.join(samples_dir, name))
        chosen[name] = index
    return chosen


# --------------------------------------------------------------------------------------------- train

def train(args, cfg=None, builder=None, no_decay_names=("cls_token", "pos_embed"), check=None):
    """Trains and exports. The defaults are the ViT; train_fashion_swin.py passes its own config, model
    builder, parameters without weight decay and reference check (check_reference is ViT-only)."""
    builder = builder or build_model
    check = check or check_reference
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(args.seed)

    train_images, train_labels = load_split("train")
    test_images, test_labels = load_split("test")
    cfg = cfg or make_config(args)
    model = builder(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{cfg['architecture']}: {json.dumps(cfg['model_args'])}; {n_params} parameters; "
          f"matmuls in {'bf16' if args.bf16 else 'fp32'}; seed {args.seed}; threads {torch.get_num_threads()}",
          flush=True)

    def decayed(n, p):
        return p.ndim >= 2 and n.rsplit(".", 1)[-1] not in no_decay_names
    decay = [p for n, p in model.named_parameters() if decayed(n, p)]
    no_decay = [p for n, p in model.named_parameters() if not decayed(n, p)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = len(train_images) // args.batch_size        # drop the ragged last batch
    total_steps = args.epochs * steps_per_epoch
    warmup_steps = int(args.warmup_epochs * steps_per_epoch)

    def lr_at(step):
        if step < warmup_steps:
            return args.lr * (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return args.min_lr + (args.lr - args.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    matmul_dtype = torch.bfloat16 if args.bf16 else torch.float32
    start, cpu_start = time.time(), time.process_time()
    step = 0
    for epoch in range(args.epochs):
        model.train()
        Precision.matmul_dtype = matmul_dtype
        order = torch.randperm(len(train_images), generator=generator).numpy()
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            images = augment(train_images[idx], generator, args.crop_padding) if args.augment else train_images[idx]
            x = to_input(images)
            y = torch.from_numpy(train_labels[idx])
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip_grad > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
            optimizer.step()
            step += 1
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
        Precision.matmul_dtype = torch.float32
        test_acc = accuracy(predict_logits(model, test_images, dtype=matmul_dtype), test_labels)
        print(f"epoch {epoch + 1:2d}/{args.epochs}  lr {lr_at(step - 1):.2e}  loss {loss_sum / seen:.4f}  "
              f"train acc {100 * correct / seen:.2f}%  test acc ({'bf16' if args.bf16 else 'fp32'}) "
              f"{100 * test_acc:.2f}%  elapsed {time.time() - start:.0f}s (cpu {time.process_time() - cpu_start:.0f}s)",
              flush=True)
    train_seconds, train_cpu_seconds = time.time() - start, time.process_time() - cpu_start

    test_logits = predict_logits(model, test_images)
    test_acc = accuracy(test_logits, test_labels)
    print(f"FP32 test accuracy: {100 * test_acc:.2f}% ({int(round(test_acc * len(test_labels)))}/"
          f"{len(test_labels)}); training wall time {train_seconds:.0f}s, cpu time {train_cpu_seconds:.0f}s", flush=True)

    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    train_info = {
        "command": " ".join([sys.executable] + sys.argv),
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "label_smoothing": args.label_smoothing,
        "threads": torch.get_num_threads(),
        "matmul_dtype_in_training": "bfloat16" if args.bf16 else "float32",
        "train_wall_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "fp32_test_accuracy": test_acc,
        "torch_version": torch.__version__,
    }
    save_model(model, out_dir, cfg)
    if builder is build_model:
        export_reference(model, cfg, out_dir, test_images, test_labels)
    else:
        eps = cfg["pretrained_cfg"]["layer_norm_eps"]
        export_reference(model, cfg, out_dir, test_images, test_labels, f"LayerNorm eps {eps:g}, erf GELU")

    # The shipped files, not the in-memory model, are what count: reload and re-check.
    reloaded, _ = load_model(out_dir, builder)
    reloaded_logits = predict_logits(reloaded, test_images)
    if not torch.equal(reloaded_logits, test_logits):
        raise RuntimeError("reloaded model.safetensors does not reproduce the trained model")
    check(out_dir)
    if args.samples:
        train_info["samples_test_index"] = export_samples(test_logits, test_images, test_labels, args.samples)
    print("summary for README.md:", json.dumps(train_info, indent=2))
    print(f"wrote {out_dir}" + (f" and {args.samples}" if args.samples else "") + f" (total {time.time() - start:.0f}s)")


def eval_only(args):
    model, _ = load_model(args.out)
    test_images, test_labels = load_split("test")
    start = time.time()
    logits = predict_logits(model, test_images)
    acc = accuracy(logits, test_labels)
    print(f"FP32 test accuracy of {args.out}/model.safetensors: {100 * acc:.2f}% "
          f"({int(round(acc * len(test_labels)))}/{len(test_labels)}) in {time.time() - start:.0f}s")
    if os.path.exists(os.path.join(args.out, "reference.safetensors")):
        check_reference(args.out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(HERE, "fashion-vit"))
    parser.add_argument("--samples", default=os.path.join(HERE, "samples"))
    parser.add_argument("--eval-only", action="store_true", help="re-evaluate the saved model (FP32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--min-lr", type=float, default=1e-5)
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--clip-grad", type=float, default=1.0)
    parser.add_argument("--crop-padding", type=int, default=2)
    parser.add_argument("--no-augment", dest="augment", action="store_false")
    parser.add_argument("--fp32-training", dest="bf16", action="store_false",
                        help="FP32 matmuls in training (slow with Debian's reference BLAS)")
    parser.add_argument("--patch-size", type=int, default=4)
    parser.add_argument("--embed-dim", type=int, default=96)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--num-heads", type=int, default=3)
    parser.add_argument("--mlp-ratio", type=float, default=2.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.eval_only:
        eval_only(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
