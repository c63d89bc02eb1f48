"""Swin Transformer in plain PyTorch with timm's semantics and tensor names (timm >= 0.9 layout).

Written for intvit's FP32 parity oracle (tests/golden/make_swin_golden.py) and the shipped Fashion-MNIST
Swin (train_fashion_swin.py); runs on Debian's torch 1.13 without timm. Follows
timm/models/swin_transformer.py exactly where it matters for the numbers:
  - activations are NHWC between blocks; patch embedding = Conv2d(P, stride P) + LayerNorm;
  - block: x + W-MSA(norm1(x)); x + MLP(norm2(x)); odd blocks of a stage shift by window // 2 with
    torch.roll(-shift) before the window partition and roll(+shift) after the reverse;
  - window and shift are clamped like timm when the stage resolution is <= the window
    (window = resolution, shift = 0);
  - attention: q·scale @ kᵀ + relative_position_bias_table[relative_position_index] (+ the -100 mask of the
    9-region slicing for shifted blocks), softmax, @ v, heads concatenated, proj;
  - patch merging at the START of stages 1.. (timm >= 0.9: layers.N.downsample, N >= 1): 2x2 gather in
    the order x0,x1,x2,x3 = [0::2,0::2],[1::2,0::2],[0::2,1::2],[1::2,1::2], LayerNorm(4C), Linear(4C,
    2C, bias=False);
  - final LayerNorm, average over all tokens, head.fc;
  - LayerNorm eps 1e-5 (nn.LayerNorm's default, as timm's Swin), exact (erf) GELU.
Buffers (relative_position_index, attn_mask) are not saved, as in timm >= 0.9 (persistent=False).
"""

import torch
import torch.nn as nn

from train_fashion_mnist import Linear, Mlp, matmul, matmul_linear  # bf16 matmuls while training

LAYER_NORM_EPS = 1e-5
MASK_VALUE = -100.0


def window_partition(x, ws):
    """[B,H,W,C] -> [B·nW, ws·ws, C], windows in row-major order of the window grid."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(windows, ws, h, w):
    """[B·nW, ws·ws, C] -> [B,H,W,C]; inverse of window_partition."""
    c = windows.shape[-1]
    x = windows.reshape(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def relative_position_index(ws):
    """[ws²,ws²] index into the [(2ws-1)², heads] bias table, as timm's get_relative_position_index."""
    coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1)


def shift_attention_mask(h, w, ws, shift):
    """[nW, ws², ws²]: 0 within a region, -100 across regions of the 9-region slicing (timm)."""
    img = torch.zeros(1, h, w, 1)
    cnt = 0
    for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img[:, hs, wsl, :] = cnt
            cnt += 1
    m = window_partition(img, ws).squeeze(-1)
    diff = m.unsqueeze(1) - m.unsqueeze(2)
    return diff.masked_fill(diff != 0, MASK_VALUE).masked_fill(diff == 0, 0.0)


def clamp_window(resolution, window, shift):
    """timm: if the stage resolution is <= the window, one window covers it and nothing shifts."""
    if resolution <= window:
        return resolution, 0
    return window, shift


class WindowAttention(nn.Module):
    def __init__(self, dim, num_heads, ws):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.ws = ws
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index", relative_position_index(ws), persistent=False)
        self.qkv = Linear(dim, 3 * dim)
        self.proj = Linear(dim, dim)

    def forward(self, x, mask=None):
        bw, n, c = x.shape
        qkv = self.qkv(x, low_precision_out=True).reshape(bw, n, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)                 # [B·nW, heads, N, hd]
        attn = matmul(q * self.scale, k.transpose(-2, -1))
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(bw // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(bw, self.num_heads, n, n)
        attn = attn.softmax(dim=-1)
        out = matmul(attn, v, low_precision_out=True).transpose(1, 2).reshape(bw, n, c)
        return self.proj(out)


class SwinBlock(nn.Module):
    def __init__(self, dim, resolution, num_heads, window, shift, mlp_ratio):
        super().__init__()
        self.ws, self.shift = clamp_window(resolution, window, shift)
        self.resolution = resolution
        self.norm1 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.attn = WindowAttention(dim, num_heads, self.ws)
        self.norm2 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        mask = shift_attention_mask(resolution, resolution, self.ws, self.shift) if self.shift else None
        self.register_buffer("attn_mask", mask, persistent=False)

    def _attn(self, x):
        b, h, w, c = x.shape
        if self.shift:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        windows = self.attn(window_partition(x, self.ws), mask=self.attn_mask)
        x = window_reverse(windows, self.ws, h, w)
        if self.shift:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        return x

    def forward(self, x):
        x = x + self._attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim, out_dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim, eps=LAYER_NORM_EPS)
        self.reduction = nn.Linear(4 * dim, out_dim, bias=False)
        nn.init.trunc_normal_(self.reduction.weight, std=0.02)

    def forward(self, x):
        b, h, w, c = x.shape
        # timm >= 0.9 writes this as reshape(B,H/2,2,W/2,2,C).permute(0,1,3,4,2,5).flatten(3): same order.
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return matmul(self.norm(x), self.reduction.weight.t())


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)
        self.norm = nn.LayerNorm(embed_dim, eps=LAYER_NORM_EPS)

    def forward(self, x):
        # Non-overlapping conv == linear over (c, ky, kx) patches; result NHWC.
        b, c, h, w = x.shape
        p = self.patch_size
        patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, h // p, w // p, -1)
        y = matmul_linear(patches, self.proj.weight.reshape(self.proj.out_channels, -1), self.proj.bias)
        return self.norm(y)


class SwinStage(nn.Module):
    def __init__(self, in_dim, dim, resolution, depth, num_heads, window, mlp_ratio, downsample):
        super().__init__()
        self.downsample = PatchMerging(in_dim, dim) if downsample else nn.Identity()
        self.blocks = nn.Sequential(*[
            SwinBlock(dim, resolution, num_heads, window, 0 if i % 2 == 0 else window // 2, mlp_ratio)
            for i in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class Head(nn.Module):
    def __init__(self, dim, num_classes):
        super().__init__()
        self.fc = Linear(dim, num_classes)

    def forward(self, x):
        return self.fc(x)


class SwinTransformer(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim, depths, num_heads, window_size,
                 mlp_ratio, num_classes):
        super().__init__()
        check_geometry(img_size, patch_size, len(depths), window_size)
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        layers, res, dim = [], img_size // patch_size, embed_dim
        for i, depth in enumerate(depths):
            out_dim = embed_dim * 2 ** i
            if i > 0:
                res //= 2
            layers.append(SwinStage(dim, out_dim, res, depth, num_heads[i], window_size, mlp_ratio, i > 0))
            dim = out_dim
        self.layers = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.head = Head(dim, num_classes)

    def forward(self, x):
        x = self.norm(self.layers(self.patch_embed(x)))
        return self.head(x.mean(dim=(1, 2)))


def check_geometry(img_size, patch_size, stages, window_size):
    res = img_size // patch_size
    if img_size % patch_size:
        raise ValueError("img_size must be a multiple of patch_size")
    for i in range(stages):
        if i > 0:
            if res % 2:
                raise ValueError(f"stage {i}: resolution {res} is odd, patch merging needs it even")
            res //= 2
        ws, _ = clamp_window(res, window_size, window_size // 2)
        if res % ws:
            raise ValueError(f"stage {i}: window {ws} does not divide resolution {res}")


def build_swin(cfg):
    a = cfg["model_args"]
    return SwinTransformer(a["img_size"], a["patch_size"], a.get("in_chans", 3), a["embed_dim"], a["depths"],
                           a["num_heads"], a["window_size"], a["mlp_ratio"], cfg["num_classes"])


def swin_config(name, img_size, patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio,
                num_classes, mean, std, interpolation="bicubic", crop_pct=1.0):
    """timm-style config.json content (model_args as timm's constructor takes them)."""
    return {
        "architecture": name,
        "num_classes": num_classes,
        "num_features": embed_dim * 2 ** (len(depths) - 1),
        "model_args": {
            "img_size": img_size, "patch_size": patch_size, "in_chans": 3, "embed_dim": embed_dim,
            "depths": list(depths), "num_heads": list(num_heads), "window_size": window_size,
            "mlp_ratio": float(mlp_ratio), "num_classes": num_classes,
        },
        "pretrained_cfg": {
            "input_size": [3, img_size, img_size], "interpolation": interpolation, "crop_pct": crop_pct,
            "crop_mode": "center", "mean": list(mean), "std": list(std), "num_classes": num_classes,
            "layer_norm_eps": LAYER_NORM_EPS, "act_layer": "gelu (erf)",
        },
    }
