"""ViT-Ti (../shared) quantized with intvit.quantize: the same file as the CLI's quantize, and
the same top-5 and int32 logits as the CLI and the C library on the shared images."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import intvit
from conftest import BUILD, SHARED, require
from test_model import c_api_logits

SUBSET = 40  # images compared here; the Ray test compares all 500


@pytest.fixture(scope="module")
def vit(vit_tiny_int):
    return intvit.load(vit_tiny_int, threads=2)


def test_quantize_writes_the_same_file_as_the_cli(vit_tiny_int, tmp_path):
    cli = require(BUILD / "intvit", "the intvit CLI")
    fp32 = SHARED / "models" / "vit_tiny_patch16_224"
    subprocess.run([str(cli), "quantize", "--model", str(fp32), "--calib", str(SHARED / "data" / "imagenet-sample"),
                    "--calib-count", "8", "-o", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "model.intvit").read_bytes() == (vit_tiny_int / "model.intvit").read_bytes()


def test_quantize_progress_callback(tmp_path):
    fp32 = require(SHARED / "models" / "vit_tiny_patch16_224" / "model.safetensors", "the shared ViT-Ti").parent
    seen = []
    info = intvit.quantize(fp32, SHARED / "data" / "imagenet-sample", tmp_path, calib_count=2, softmax="log2",
                           wide_blocks=[3], progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert ("calibrating", 2, 2) in seen and ("loading", 2, 2) in seen
    assert info["calib_images"] == 2 and info["model_file"].endswith("model.intvit")
    m = intvit.load(tmp_path, threads=1)
    assert m.num_classes == 1000 and "int8" in m.precision


def test_same_top5_as_cli(vit, shared_images, vit_tiny_cli_top5):
    images = shared_images[:SUBSET]
    for path, preds in zip(images, vit.classify(images)):
        assert [c for c, _, _ in preds] == [c for c, _ in vit_tiny_cli_top5[path]], path
        assert [p for _, _, p in preds] == pytest.approx([p for _, p in vit_tiny_cli_top5[path]], rel=1e-12,
                                                         abs=1e-15), path


def test_same_int32_logits_as_c_library(vit, vit_tiny_int, shared_images):
    lib = require(BUILD / "libintvit.so", "the C library (cmake --build --preset release)")
    batch = np.stack([vit.preprocess(p) for p in shared_images[:SUBSET]])
    np.testing.assert_array_equal(vit.logits(batch), c_api_logits(lib, vit_tiny_int, batch, 1000))


def test_reference_pixels_need_no_preprocessing(vit):
    # Already-cropped 224x224 inputs are used unchanged (no resize): preprocess is the identity.
    from safetensors_reader import read_pixels
    pixels = read_pixels(require(SHARED / "models" / "vit_tiny_patch16_224" / "reference.safetensors",
                                 "the shared reference tensors"))[:8]
    for image in pixels:
        np.testing.assert_array_equal(vit.preprocess(image), image)
    np.testing.assert_array_equal(vit.logits(pixels), np.stack([vit.logits(p[None])[0] for p in pixels]))
