"""Shared fixtures of the Python package tests: paths of the repository, the shared data
(../shared, or $INTVIT_SHARED_DIR), the CLI and C library of the CMake build, and a ViT-Ti
integer model quantized once per session with intvit.quantize."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("INTVIT_SHARED_DIR", REPO.parent / "shared"))
BUILD = Path(os.environ.get("INTVIT_BUILD_DIR", REPO / "build" / "release"))
DEFAULT_MODEL = REPO / "models" / "default" / "fashion-vit"
TEST_IMAGES = REPO / "tests" / "data" / "images" / "decode"
IN_CI = os.environ.get("CI") == "true"


def require(path: Path, what: str) -> Path:
    """Skips (visibly) when `path` is absent on a developer machine; fails under CI=true."""
    if not path.exists():
        message = f"{what} not found at {path}"
        if IN_CI:
            pytest.fail(message + " (CI=true: required)")
        pytest.skip(message)
    return path


def cli_top(model: Path, images: list, top: int = 5) -> dict:
    """{image path: [(class, probability), ...]} from `intvit classify --json`."""
    cli = require(BUILD / "intvit", "the intvit CLI (cmake --build --preset release)")
    out = subprocess.run([str(cli), "classify", "--model", str(model), "--top", str(top), "--json",
                          *map(str, images)], check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        j = json.loads(line)
        result[j["image"]] = [(p["class"], p["probability"]) for p in j["top"]]
    return result


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    return require(DEFAULT_MODEL / "model.intvit", "the shipped default model").parent


@pytest.fixture(scope="session")
def shared_images() -> list:
    folder = require(SHARED / "data" / "imagenet-sample", "the shared ImageNet sample (../shared)")
    return sorted(str(p) for p in folder.glob("*.JPEG"))


@pytest.fixture(scope="session")
def vit_tiny_int(tmp_path_factory, shared_images) -> Path:
    """ViT-Ti quantized on 8 shared images (the CLI's defaults otherwise)."""
    import intvit
    fp32 = require(SHARED / "models" / "vit_tiny_patch16_224" / "model.safetensors", "the shared ViT-Ti").parent
    out = tmp_path_factory.mktemp("vit_tiny_int")
    intvit.quantize(fp32, SHARED / "data" / "imagenet-sample", out, calib_count=8, progress=None)
    return out


@pytest.fixture(scope="session")
def vit_tiny_cli_top5(vit_tiny_int, shared_images) -> dict:
    return cli_top(vit_tiny_int, shared_images)
