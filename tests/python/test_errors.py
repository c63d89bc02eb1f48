"""Every error path: an intvit.Error subclass (also the matching built-in) with the C status and
the engine's message, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import intvit
from conftest import REPO, TEST_IMAGES


@pytest.fixture(scope="module")
def model(default_model_dir):
    return intvit.load(default_model_dir, threads=1)


def test_load_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        intvit.load(tmp_path / "nope")
    assert isinstance(e.value, intvit.Error) and e.value.status == 2 and "nope" in str(e.value)


def test_load_corrupt_model(tmp_path):
    bad = tmp_path / "model.intvit"
    bad.write_bytes(b"INTVIT" + bytes(100))
    with pytest.raises(intvit.CorruptModelError) as e:
        intvit.load(bad)
    assert e.value.status == 3 and e.value.message


def test_load_path_with_nul_is_rejected(default_model_dir):
    # The C API takes NUL-terminated paths: "M\0garbage" must not silently load M.
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.load(str(default_model_dir) + "\0garbage", threads=1)
    assert e.value.status == 1 and "path" in str(e.value) and "NUL" in str(e.value)


def test_load_folder_without_model(tmp_path):
    with pytest.raises(intvit.Error):
        intvit.load(tmp_path)


@pytest.mark.parametrize("threads", [0, -1, 257])
def test_load_bad_threads(default_model_dir, threads):
    with pytest.raises(ValueError) as e:
        intvit.load(default_model_dir, threads=threads)
    assert e.value.status == 1


@pytest.mark.parametrize("threads", [2**31, 2**40, -2**70])
def test_load_threads_out_of_int_range(default_model_dir, model, threads):
    # Beyond int32: a ValueError like any other bad thread count (not the binding's TypeError).
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.load(default_model_dir, threads=threads)
    assert e.value.status == 1 and "threads" in str(e.value)
    with pytest.raises(intvit.InvalidArgumentError):
        model.clone(threads=threads)


@pytest.mark.parametrize("threads", ["2", 1.5, True])
def test_load_threads_not_int(default_model_dir, threads):
    with pytest.raises(ValueError):
        intvit.load(default_model_dir, threads=threads)


def test_load_bad_backend(default_model_dir):
    with pytest.raises(ValueError) as e:
        intvit.load(default_model_dir, threads=1, backend="nonsense")
    assert e.value.status == 1 and "nonsense" in str(e.value)
    # A known backend of the other kind: an integer model has no fp32 kernels (C API: _UNSUPPORTED).
    with pytest.raises(intvit.UnsupportedError) as e:
        intvit.load(default_model_dir, threads=1, backend="fp32")
    assert e.value.status == 4 and "fp32" in str(e.value)


def test_classify_missing_file(model, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        model.classify([str(TEST_IMAGES / "png_rgb8.png"), str(tmp_path / "missing.png")])
    assert "image 1" in str(e.value) and e.value.status == 2


def test_classify_corrupt_bytes(model):
    with pytest.raises(intvit.CorruptImageError) as e:
        model.classify([b"\x89PNG\r\n\x1a\nthis is not a png"])
    assert e.value.status == 8


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_classify_empty_bytes_is_a_corrupt_image(model, tmp_path, empty):
    # As documented (undecodable bytes) and as an empty file: CorruptImageError, not the C API's
    # INVALID_ARGUMENT for size 0.
    with pytest.raises(intvit.CorruptImageError) as e:
        model.classify([str(TEST_IMAGES / "png_rgb8.png"), empty])
    assert e.value.status == 8 and "image 1" in str(e.value)
    with pytest.raises(intvit.CorruptImageError):
        model.preprocess(empty)
    empty_file = tmp_path / "empty.png"
    empty_file.write_bytes(b"")
    with pytest.raises(intvit.CorruptImageError):
        model.classify([empty_file])


def test_classify_path_with_nul_is_rejected(model):
    png = str(TEST_IMAGES / "png_rgb8.png")
    with pytest.raises(intvit.InvalidArgumentError) as e:
        model.classify([png, png + "\0garbage"])
    assert e.value.status == 1 and "image 1" in str(e.value) and "NUL" in str(e.value)
    with pytest.raises(intvit.InvalidArgumentError) as e:
        model.preprocess(png + "\0garbage")
    assert "path" in str(e.value) and "NUL" in str(e.value)


def test_classify_corrupt_file(model, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(intvit.CorruptImageError):
        model.classify([bad])


@pytest.mark.parametrize("top", [0, -1, 11])
def test_classify_bad_top(model, top):
    with pytest.raises(ValueError) as e:
        model.classify([str(TEST_IMAGES / "png_rgb8.png")], top=top)
    assert "top" in str(e.value)


@pytest.mark.parametrize("top", [2**63, 2**70, -2**70])
def test_classify_top_out_of_int_range(model, top):
    with pytest.raises(intvit.InvalidArgumentError) as e:
        model.classify([str(TEST_IMAGES / "png_rgb8.png")], top=top)
    assert e.value.status == 1 and "top" in str(e.value)


def test_classify_top_not_int(model):
    with pytest.raises(ValueError):
        model.classify([str(TEST_IMAGES / "png_rgb8.png")], top="5")


@pytest.mark.parametrize("array, what", [
    (np.zeros((8, 8, 3), np.float32), "uint8"),
    (np.zeros((8, 8, 3), np.int16), "uint8"),
    (np.zeros((8, 8, 3), object), "uint8"),                  # dtypes the binding cannot take at all
    (np.full((8, 8), "a"), "uint8"),
    (np.zeros((8, 8, 3), "S1"), "uint8"),
    (np.zeros((8, 8), "datetime64[s]"), "uint8"),
    (np.zeros(64, np.uint8), "H x W"),
    (np.zeros((2, 8, 8, 3), np.uint8), "H x W"),
    (np.zeros((8, 8, 2), np.uint8), "channels"),
    (np.zeros((8, 8, 5), np.uint8), "channels"),
    (np.zeros((0, 8, 3), np.uint8), "positive"),
    (np.zeros((8, 16, 3), np.uint8)[:, ::2], "strides"),     # pixels not dense
    (np.zeros((8, 8, 3), np.uint8)[::-1], "strides"),        # negative row stride
    (np.zeros((8, 8, 3), np.uint8, order="F"), "strides"),   # channel-planar
    (np.zeros((3, 8, 8), np.uint8).transpose(1, 2, 0), "strides"),
])
def test_classify_bad_arrays(model, array, what):
    with pytest.raises(ValueError) as e:
        model.classify([array])
    assert what in str(e.value)
    with pytest.raises(ValueError):
        model.preprocess(array)


def test_classify_too_large_image(model):
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(9000, 9000), strides=(9000, 1))
    with pytest.raises(ValueError) as e:  # 81 M pixels > INTVIT_MAX_IMAGE_PIXELS, rejected before reading
        model.classify([huge])
    assert e.value.status == 1


@pytest.mark.parametrize("item", [5, None, 3.5, object(), [1, 2]])
def test_classify_wrong_type(model, item):
    with pytest.raises(TypeError):
        model.classify([item])


def test_classify_empty_list(model):
    assert model.classify([]) == []


def test_logits_bad_input(model):
    s = model.input_size
    good = np.zeros((2, s, s, 3), np.uint8)
    cases = [
        good.astype(np.float32), good.astype(np.int8), good[0], good[:, :, :, :1], good[:, :s - 1],
        np.zeros((2, s + 1, s + 1, 3), np.uint8),
        np.zeros((2, s, s, 4), np.uint8),
        np.zeros((2, s, 2 * s, 3), np.uint8)[:, :, ::2],   # strided columns
        np.zeros((4, s, s, 3), np.uint8)[::2],             # strided images
        np.asfortranarray(good),
        good.astype(object), good.astype("U1"), good.astype("S1"),   # dtypes the binding cannot take at all
        np.zeros((0, s, s, 3), object),
    ]
    for bad in cases:
        with pytest.raises(ValueError) as e:
            model.logits(bad)
        assert e.value.status == 1, (bad.shape, bad.dtype)
        assert bad.dtype == np.uint8 or "uint8" in str(e.value), bad.dtype
    with pytest.raises(ValueError):
        model.logits(good.tolist())


def test_logits_reads_readonly_input_in_place(model):
    s = model.input_size
    batch = np.zeros((3, s, s, 3), np.uint8)
    batch.flags.writeable = False
    assert model.logits(batch).shape == (3, model.num_classes)


def test_quantize_bad_options(default_model_dir, tmp_path):
    calib = str(TEST_IMAGES)
    for kwargs in [dict(softmax="nope"), dict(gelu="nope"), dict(observer="nope"), dict(attn_bits=4),
                   dict(attn_bits=3), dict(softmax="log2", attn_bits=16), dict(calib_count=0),
                   dict(wide_blocks="sometimes"), dict(wide_blocks=["x"])]:
        with pytest.raises(ValueError):
            intvit.quantize(default_model_dir, calib, tmp_path / "out", progress=None, **kwargs)
    assert not (tmp_path / "out").exists()  # checked before anything was read or written


@pytest.mark.parametrize("kwargs", [dict(calib_count=2**70), dict(calib_count=-2**63 - 1), dict(attn_bits=2**70),
                                    dict(wide_blocks=[2**40]), dict(wide_blocks=[-1])])
def test_quantize_out_of_range_ints(default_model_dir, tmp_path, kwargs):
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.quantize(default_model_dir, TEST_IMAGES, tmp_path / "out", progress=None, **kwargs)
    assert e.value.status == 1 and next(iter(kwargs)) in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("model, blocks", [("fashion-vit", 6), ("fashion-swin", 4)])
def test_quantize_wide_block_past_the_last_is_refused_before_calibrating(model, blocks, tmp_path):
    # A Swin's wide_blocks were checked only after calibration (minutes on a real model).
    stages = []
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.quantize(REPO / "models" / "default" / model, TEST_IMAGES, tmp_path / "out", wide_blocks=[blocks],
                        progress=lambda stage, done, total: stages.append(stage))
    assert f"wide block index out of range: {blocks} (the model has {blocks} blocks" in str(e.value)
    assert stages == []  # no calibration image was even loaded
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("progress", [0, 1, "yes", 1.5, []])
def test_quantize_progress_must_be_bool_none_or_callable(default_model_dir, tmp_path, progress):
    # progress may be a callable, so a truthy non-callable (a misspelt callback?) is an error.
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.quantize(default_model_dir, TEST_IMAGES, tmp_path / "out", progress=progress)
    assert e.value.status == 1 and "progress" in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argument", ["fp32_dir", "calib", "out_dir"])
def test_quantize_path_with_nul_is_rejected(default_model_dir, tmp_path, argument):
    paths = dict(fp32_dir=str(default_model_dir), calib=str(TEST_IMAGES), out_dir=str(tmp_path / "out"))
    paths[argument] += "\0garbage"
    with pytest.raises(intvit.InvalidArgumentError) as e:
        intvit.quantize(paths["fp32_dir"], paths["calib"], paths["out_dir"], calib_count=1, progress=None)
    assert e.value.status == 1 and argument in str(e.value) and "NUL" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_quantize_missing_paths(default_model_dir, tmp_path):
    with pytest.raises(FileNotFoundError):
        intvit.quantize(tmp_path / "nope", TEST_IMAGES, tmp_path / "out", progress=None)
    with pytest.raises(FileNotFoundError):
        intvit.quantize(default_model_dir, tmp_path / "nope", tmp_path / "out", progress=None)


def test_quantize_not_a_model(tmp_path):
    with pytest.raises(intvit.Error) as e:
        intvit.quantize(tmp_path, TEST_IMAGES, tmp_path / "out", progress=None)
    assert e.value.status in (2, 3)


ERROR_CLASSES = [intvit.Error, intvit.InvalidArgumentError, intvit.ReadError, intvit.NotFoundError,
                 intvit.CorruptModelError, intvit.UnsupportedError, intvit.OutOfMemoryError,
                 intvit.BufferTooSmallError, intvit.InternalError, intvit.CorruptImageError]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_status_names(cls):
    # status_name is intvit_status_string(status) of the C library, as _errors.py documents.
    assert cls.status_name == intvit._intvit.status_string(cls.status)


def test_raised_errors_carry_the_c_status_name(tmp_path):
    with pytest.raises(intvit.NotFoundError) as e:
        intvit.load(tmp_path / "nope")
    assert e.value.status_name == intvit._intvit.status_string(e.value.status) == "i/o error"


def test_error_classes():
    assert issubclass(intvit.NotFoundError, FileNotFoundError) and issubclass(intvit.InvalidArgumentError, ValueError)


def test_quantize_skips_undecodable_calibration_files(default_model_dir, tmp_path):
    # A file that cannot be decoded is skipped (named in "skipped"), the next one is taken instead.
    calib = tmp_path / "calib"
    calib.mkdir()
    for name in ["jpeg_gray_77.jpg", "png_rgb8.png"]:
        (calib / ("b_" + name)).write_bytes((TEST_IMAGES / name).read_bytes())
    (calib / "a_broken.jpg").write_bytes(b"this is not a JPEG\n")
    info = intvit.quantize(default_model_dir, calib, tmp_path / "out", calib_count=2, progress=None)
    assert info["calib_images"] == 2
    assert len(info["skipped"]) == 1 and "a_broken.jpg" in info["skipped"][0]
    assert intvit.load(tmp_path / "out", threads=1).num_classes == 10
    (calib / "b_jpeg_gray_77.jpg").unlink()
    (calib / "b_png_rgb8.png").unlink()
    with pytest.raises(intvit.InvalidArgumentError) as e:  # nothing decodes
        intvit.quantize(default_model_dir, calib, tmp_path / "out2", calib_count=2, progress=None)
    assert "could be read and decoded" in str(e.value)
