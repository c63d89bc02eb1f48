"""intvit.load / Model on the shipped default model (cheap): every input kind, preprocessing,
logits, parity with the CLI and with the C library called directly."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from PIL import Image

import intvit
from conftest import BUILD, TEST_IMAGES, cli_top, require

LOSSLESS = ["png_rgb8.png", "png_rgba8.png", "png_gray8.png", "ppm_rgb.ppm", "bmp_rgb24.bmp"]
ALL_IMAGES = sorted(str(p) for p in TEST_IMAGES.iterdir())


@pytest.fixture(scope="module")
def model(default_model_dir):
    return intvit.load(default_model_dir, threads=1)


def softmax_top(logits: np.ndarray, scale: float, k: int):
    real = logits.astype(np.float64) * scale
    e = np.exp(real - real.max())
    p = e / e.sum()
    order = sorted(range(len(real)), key=lambda i: (-real[i], i))[:k]
    return [(i, p[i]) for i in order]


def test_properties(model, default_model_dir):
    assert model.is_integer and model.precision.startswith("int8")
    assert model.num_classes == len(model.labels) == 10
    assert model.input_size > 0 and model.logit_scale > 0 and model.threads == 1
    assert model.workspace_bytes > 0 and model.backend
    assert "Model" in repr(model) and intvit.__version__.count(".") == 2


def test_input_kinds_agree(model):
    for name in LOSSLESS:
        path = TEST_IMAGES / name
        data = path.read_bytes()
        pil = Image.open(path)
        expected = model.classify([str(path)])[0]
        assert len(expected) == 5
        assert model.classify([path])[0] == expected  # os.PathLike
        assert model.classify([data])[0] == expected
        assert model.classify([bytearray(data)])[0] == expected
        assert model.classify([pil])[0] == expected
        assert model.classify([np.asarray(pil.convert("RGB"))])[0] == expected
        assert model.classify(str(path)) == [expected]  # one image, not a list


def test_channel_layouts_agree(model):
    rgb = np.asarray(Image.open(TEST_IMAGES / "png_rgb8.png").convert("RGB"))
    gray = np.asarray(Image.open(TEST_IMAGES / "png_rgb8.png").convert("L"))
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    assert model.classify([rgba]) == model.classify([rgb])  # alpha ignored
    assert model.classify([gray]) == model.classify([gray[:, :, None]]) == model.classify([np.dstack([gray] * 3)])
    wide = np.zeros((rgb.shape[0], rgb.shape[1] + 5, 3), np.uint8)
    wide[:, :rgb.shape[1]] = rgb
    padded_rows = wide[:, :rgb.shape[1]]  # rows padded, pixels dense: read in place
    assert not padded_rows.flags.c_contiguous
    assert model.classify([padded_rows]) == model.classify([rgb])
    readonly = rgb.copy()
    readonly.flags.writeable = False
    assert model.classify([readonly]) == model.classify([rgb])


def test_preprocess_then_logits_equals_classify(model):
    for path in ALL_IMAGES:
        cropped = model.preprocess(path)
        s = model.input_size
        assert cropped.shape == (s, s, 3) and cropped.dtype == np.uint8
        logits = model.logits(cropped[None])
        assert logits.shape == (1, 10) and logits.dtype == np.int32
        got = model.classify([path], top=10)[0]
        want = softmax_top(logits[0], model.logit_scale, 10)
        assert [c for c, _, _ in got] == [c for c, _ in want]
        assert [p for _, _, p in got] == pytest.approx([p for _, p in want], rel=1e-12, abs=1e-15)
        assert [label for _, label, _ in got] == [model.labels[c] for c, _, _ in got]


def test_batch_logits_equal_single(model):
    batch = np.stack([model.preprocess(p) for p in ALL_IMAGES])
    together = model.logits(batch)
    for i in range(len(batch)):
        np.testing.assert_array_equal(together[i], model.logits(batch[i:i + 1])[0])
    assert model.logits(batch[:0]).shape == (0, 10)
    empty = np.zeros((0,) + batch.shape[1:], np.uint8)  # C-contiguous, strides all 0
    assert model.logits(empty).shape == (0, 10)


def test_same_top5_as_cli(model, default_model_dir):
    cli = cli_top(default_model_dir, ALL_IMAGES)
    py = model.classify(ALL_IMAGES)
    for path, preds in zip(ALL_IMAGES, py):
        assert [c for c, _, _ in preds] == [c for c, _ in cli[path]], path
        assert [p for _, _, p in preds] == pytest.approx([p for _, p in cli[path]], rel=1e-12, abs=1e-15), path


def c_api_logits(lib_path, model_dir, batch: np.ndarray, classes: int) -> np.ndarray:
    """int32 logits from the C library itself (libintvit.so of the CMake build) via ctypes."""
    lib = ctypes.CDLL(str(lib_path))
    model_h, session_h = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.intvit_model_load(str(model_dir).encode(), 0, ctypes.byref(model_h)) == 0
    assert lib.intvit_session_create(model_h, 1, None, ctypes.byref(session_h)) == 0
    out = np.zeros((len(batch), classes), np.int32)
    batch = np.ascontiguousarray(batch)
    status = lib.intvit_session_run_batch_into(session_h, batch.ctypes.data_as(ctypes.c_void_p),
                                               ctypes.c_size_t(len(batch)), out.ctypes.data_as(ctypes.c_void_p),
                                               ctypes.c_size_t(out.size))
    lib.intvit_session_destroy(session_h)
    lib.intvit_model_destroy(model_h)
    assert status == 0
    return out


def test_same_int32_logits_as_c_library(model, default_model_dir):
    lib = require(BUILD / "libintvit.so", "the C library (cmake --build --preset release)")
    batch = np.stack([model.preprocess(p) for p in ALL_IMAGES])
    np.testing.assert_array_equal(model.logits(batch), c_api_logits(lib, default_model_dir, batch, 10))


def test_fp32_model(default_model_dir):
    fp32 = intvit.load(default_model_dir, threads=1, prefer_fp32=True)
    assert fp32.precision == "fp32" and not fp32.is_integer and fp32.logit_scale == 1.0
    preds = fp32.classify(ALL_IMAGES[:3], top=3)
    assert len(preds) == 3 and all(len(p) == 3 for p in preds)
    with pytest.raises(intvit.UnsupportedError) as e:
        fp32.logits(np.stack([fp32.preprocess(ALL_IMAGES[0])]))
    assert e.value.status == 4


def test_fp32_logits_unsupported_for_any_batch(default_model_dir):
    # Integer-ness is checked first: no empty (0, classes) array for no images, no shape or dtype
    # complaint that hides the real reason.
    fp32 = intvit.load(default_model_dir, threads=1, prefer_fp32=True)
    s = fp32.input_size
    batches = [np.zeros((0, s, s, 3), np.uint8), np.zeros((2, s, s, 3), np.uint8), np.zeros((1, 4, 4, 3), np.float32)]
    for batch in batches:
        with pytest.raises(intvit.UnsupportedError) as e:
            fp32.logits(batch)
        assert e.value.status == 4, batch.shape


def test_fp32_session_runs_one_thread(default_model_dir):
    fp32 = intvit.load(default_model_dir, threads=2, prefer_fp32=True)
    assert fp32.threads == 1
    doc = " ".join(intvit.load.__doc__.split())
    assert "FP32 sessions always use one thread" in doc, doc


def test_workspace_grows_with_the_first_bigger_batch(model):
    session = model.clone(threads=1)
    batch = np.stack([model.preprocess(p) for p in ALL_IMAGES[:1]] * 8)
    session.logits(batch[:1])
    one = session.workspace_bytes
    session.logits(batch)
    eight = session.workspace_bytes
    session.logits(batch[:1])
    assert one < eight == session.workspace_bytes  # grown once, then kept
    doc = " ".join(intvit.Model.workspace_bytes.__doc__.split())
    assert "allocated once" not in doc and "grows" in doc, doc


def test_clone_shares_weights(model):
    other = model.clone(threads=2)
    assert other.threads == 2 and other.path == model.path
    batch = np.stack([model.preprocess(p) for p in ALL_IMAGES[:4]])
    np.testing.assert_array_equal(other.logits(batch), model.logits(batch))


def test_help_and_docstrings():
    for obj in (intvit.load, intvit.quantize, intvit.Model.classify, intvit.Model.logits, intvit.Model.preprocess):
        assert obj.__doc__ and len(obj.__doc__) > 40
