"""intvit: integer-only vision-transformer inference (uint8 activations, int8 weights, int32
accumulators), bound from the C library with nanobind.

    import intvit
    model = intvit.load("models/default/fashion-vit")
    model.classify(["zebra.jpg"])          # [[(class_index, label, probability), ...]]

Every engine call releases the GIL, so Python threads with one Model each run in parallel.
Errors are intvit.Error subclasses that also derive from the matching built-in exception
(FileNotFoundError, ValueError, MemoryError, ...). ``intvit.ray`` (imported on use) runs
classification on Ray Data.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _intvit
from ._errors import (BufferTooSmallError, CorruptImageError, CorruptModelError, Error, InternalError,
                      InvalidArgumentError, NotFoundError, OutOfMemoryError, ReadError, UnsupportedError)
from ._images import ImageLike, normalize

__version__ = _intvit.version()

__all__ = [
    "load", "quantize", "Model", "Prediction", "Error", "InvalidArgumentError", "ReadError", "NotFoundError",
    "CorruptModelError", "CorruptImageError", "UnsupportedError", "OutOfMemoryError", "BufferTooSmallError",
    "InternalError", "default_threads",
]

#: One class of a result: (class_index, label, probability).
Prediction = Tuple[int, str, float]

_MAX_THREADS = 256  # intvit_session_create's limit


def default_threads() -> int:
    """The CPUs this process may run on (capped at 256): the default session thread count."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, _MAX_THREADS))


_MAX_CALIB_COUNT = 100_000  # check_quantize_model_options (engine/quantize_model.cc)


def _int_arg(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in [low, high], else InvalidArgumentError (a ValueError). Checked here,
    before the extension: its int parameters raise TypeError for an int beyond their C type."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(f"{name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def _threads_arg(threads: Optional[int]) -> int:
    if threads is None:
        return default_threads()
    return _int_arg("threads", threads, 1, _MAX_THREADS)


class Model:
    """A loaded model and one session (its worker threads and run memory).

    A Model may be used from several Python threads, but its runs take turns (one session runs
    one thing at a time; :attr:`threads`, :attr:`backend` and :attr:`workspace_bytes` wait for a
    run on another thread to end); for parallel runs give each thread its own Model, e.g. with
    :meth:`clone`, which shares the loaded weights.
    """

    def __init__(self, native: "_intvit.Model", path: str) -> None:
        self._native = native
        self.path = path

    def __repr__(self) -> str:
        return (f"intvit.Model({self.path!r}, precision={self.precision!r}, backend={self.backend!r}, "
                f"threads={self.threads})")

    def clone(self, threads: Optional[int] = None, backend: Optional[str] = None) -> "Model":
        """A new Model with its own session on the same loaded weights (no reload)."""
        return Model(self._native.clone(_threads_arg(threads), backend or ""), self.path)

    @property
    def input_size(self) -> int:
        """Side S of the square cropped input in pixels (e.g. 224)."""
        return self._native.input_size

    @property
    def num_classes(self) -> int:
        """Number of classes of the head."""
        return self._native.num_classes

    @property
    def labels(self) -> List[str]:
        """Class names in class-index order."""
        return self._native.labels

    @property
    def precision(self) -> str:
        """"fp32", "int8" or "int8 (4-bit attention)"."""
        return self._native.precision

    @property
    def is_integer(self) -> bool:
        """True for an integer model (int32 logits available), False for an FP32 model."""
        return self._native.is_integer

    @property
    def backend(self) -> str:
        """The kernel backend of this session ("avx512vnni", "avx2", "ref", "onednn", "fp32", ...)."""
        return self._native.backend

    @property
    def threads(self) -> int:
        """Worker threads of this session (always 1 for an FP32 model)."""
        return self._native.threads

    @property
    def logit_scale(self) -> float:
        """real logit = logit_scale * int32 logit (1.0 for FP32 models)."""
        return self._native.logit_scale

    @property
    def workspace_bytes(self) -> int:
        """Bytes of scratch memory the session holds and reuses for every run. Planned when the
        session is created, it grows the first time a bigger batch than before runs; later runs
        of that size allocate nothing."""
        return self._native.workspace_bytes

    def classify(self, images: Union[ImageLike, Iterable[ImageLike]], top: int = 5) -> List[List[Prediction]]:
        """Top-``top`` classes of each image, highest first (ties: lower class index first).

        ``images``: a list (or one image) of file paths, encoded bytes (JPEG, PNG, BMP, GIF,
        PGM/PPM), PIL images, or uint8 numpy arrays H x W (gray) / H x W x C (C = 1, 3 or 4;
        alpha ignored) of any size, row-major with interleaved channels. Each is resized and
        center-cropped as the model was trained. Returns, per image, a list of
        ``(class_index, label, probability)``. Raises ValueError for bad arrays or ``top`` or a
        path containing a NUL character, FileNotFoundError for a missing file,
        intvit.CorruptImageError for undecodable bytes (empty ones too, as an empty file).
        """
        items = [normalize(images)] if _is_one_image(images) else [normalize(im) for im in images]
        return self._native.classify(items, _int_arg("top", top, 1, self.num_classes))

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw int32 logits of cropped inputs, read in place (no copy).

        ``batch``: uint8 numpy array of shape (n, S, S, 3), C-contiguous, S = :attr:`input_size`
        (e.g. from :meth:`preprocess`). Returns int32 (n, num_classes); real logits are
        ``logit_scale * logits``. Integer models only (FP32: intvit.UnsupportedError, for any batch).
        """
        if not isinstance(batch, np.ndarray):
            raise InvalidArgumentError(f"logits() needs a numpy array, got {type(batch).__name__}")
        return self._native.logits(batch)  # checks integer-ness first, then dtype, shape, strides

    def preprocess(self, image: ImageLike) -> np.ndarray:
        """The cropped input the engine makes of one image: uint8 (S, S, 3), exactly the bytes
        :meth:`classify` runs on (resize of the shorter side + center crop as trained)."""
        return self._native.preprocess(normalize(image))


def _is_one_image(obj: object) -> bool:
    # str, bytes, numpy arrays and PIL images are one image; any other iterable (list, generator,
    # pandas/pyarrow column) is a sequence of images.
    return isinstance(obj, (str, bytes, bytearray, memoryview, np.ndarray, os.PathLike)) or not hasattr(obj, "__iter__")


def load(path: Union[str, "os.PathLike[str]"], threads: Optional[int] = None, backend: Optional[str] = None,
         prefer_fp32: bool = False) -> Model:
    """Loads a model, like the CLI's ``--model``: a folder with ``model.intvit`` (integer model)
    or with ``config.json`` + ``model.safetensors`` (FP32 reference), or a model file.

    ``threads``: worker threads of the session, in [1, 256] (default: the CPUs this process may
    use); FP32 sessions always use one thread, whatever ``threads`` is.
    ``backend``: None for the best this CPU has (or $INTVIT_ISA), else "ref", "avx2",
    "avxvnni", "avx512vnni", "onednn", "amx", "amx-emu" (integer) or "fp32". ``prefer_fp32`` loads the FP32
    model of a folder that has both. Raises FileNotFoundError, intvit.CorruptModelError,
    intvit.UnsupportedError (also for a backend this CPU or this kind of model cannot run),
    ValueError (intvit.InvalidArgumentError: a bad ``threads``, an unknown ``backend``, or a
    path containing a NUL character).
    """
    p = os.fspath(path)
    native = _intvit.Model(p, _threads_arg(threads), backend or "", bool(prefer_fp32))
    return Model(native, p)


ProgressCallback = Callable[[str, int, int], None]


def quantize(fp32_dir: Union[str, "os.PathLike[str]"], calib: Union[str, "os.PathLike[str]"],
             out_dir: Union[str, "os.PathLike[str]"], *, calib_count: int = 100, observer: str = "minmax",
             softmax: str = "lut", attn_bits: Optional[int] = None, log2_renorm: bool = True, gelu: str = "lut",
             wide_blocks: Union[str, Sequence[int]] = "auto", bias_correction: bool = False,
             ln_reparam: bool = False, progress: Union[bool, ProgressCallback, None] = True,
             log: Optional[Callable[[str], None]] = None) -> dict:
    """Calibrates an FP32 model and writes an integer model (``out_dir/model.intvit``): the
    ``intvit quantize`` command with the same options and defaults (see ``intvit quantize
    --help``). ``calib``: a folder of images or a .safetensors with ``pixels`` [N,H,W,3].

    ``attn_bits``: None = 8 with softmax="log2", else 16. ``wide_blocks``: "auto", "search",
    "none" or a list of block indices. ``progress``: True prints the CLI's progress bars on
    stderr, a callable gets ``(stage, done, total)``, None/False is silent (anything else is a
    ValueError). ``log`` gets the wide-block search's lines. Returns {"model_file",
    "calib_images", "skipped", "report"}; "skipped" lists the calibration files that could not be
    read or decoded (one message each; the next files were taken instead, an error only if none
    decodes). Bad options raise ValueError (intvit.InvalidArgumentError).
    """
    if isinstance(wide_blocks, str):
        wide, wide_list = wide_blocks, []
    else:
        try:
            wide_list = [int(b) for b in wide_blocks]
            indices = all(0 <= b < 2**31 for b in wide_list)  # the engine checks b < depth
        except (TypeError, ValueError):
            indices = False
        if not indices:
            raise InvalidArgumentError(
                f"wide_blocks must be 'auto', 'search', 'none' or a list of block indices, got {wide_blocks!r}")
        wide = "list"
    calib_count = _int_arg("calib_count", calib_count, 1, _MAX_CALIB_COUNT)
    attn = 0 if attn_bits is None else _int_arg("attn_bits", attn_bits, 4, 16)  # the engine takes 4, 8 or 16
    # progress may be a callable, so a truthy non-callable ("yes", 1, a misspelt callback) is an
    # error rather than True.
    if isinstance(progress, (bool, np.bool_)):
        progress = True if progress else None
    elif progress is not None and not callable(progress):
        raise InvalidArgumentError(
            f"progress must be True, False, None or a callable(stage, done, total), got {progress!r}")
    return _intvit.quantize(os.fspath(fp32_dir), os.fspath(calib), os.fspath(out_dir), calib_count, observer,
                            softmax, attn, bool(log2_renorm), gelu, wide, wide_list,
                            bool(bias_correction), bool(ln_reparam), progress, log)


def __getattr__(name: str):
    # `intvit.ray` is imported on first use only: Ray is optional.
    if name == "ray":
        import importlib
        return importlib.import_module(".ray", __name__)
    raise AttributeError(f"module 'intvit' has no attribute {name!r}")
