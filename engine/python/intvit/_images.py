"""What classify() and preprocess() accept, turned into what the extension reads: a path (str),
encoded bytes, or a uint8 numpy array H x W or H x W x C (gray, RGB, RGBA)."""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np

from ._errors import InvalidArgumentError

ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, np.ndarray, Any]

# PIL modes the engine reads as they are; every other mode is converted to RGB first.
_PIL_DIRECT_MODES = ("L", "RGB", "RGBA")


def _is_pil_image(obj: Any) -> bool:
    # Without importing PIL: Pillow stays optional.
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image" for c in type(obj).__mro__)


def normalize(image: ImageLike) -> Any:
    """One image as the extension takes it. Numpy arrays are passed as they are (ValueError for
    a dtype other than uint8 here; the extension checks shape and strides and raises ValueError);
    nothing is copied except PIL images and bytearray/memoryview."""
    if isinstance(image, str):
        return image
    if isinstance(image, os.PathLike):
        return os.fspath(image)
    if isinstance(image, bytes):
        return image
    if isinstance(image, (bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, np.ndarray):
        # Checked here: the extension cannot even take some dtypes (object, str, datetime), which
        # would make a TypeError, not the ValueError of any other wrong dtype.
        if image.dtype != np.uint8:
            raise InvalidArgumentError(f"image arrays must have dtype uint8, got dtype {image.dtype}")
        return image
    if _is_pil_image(image):
        if image.mode not in _PIL_DIRECT_MODES:
            image = image.convert("RGB")
        return np.asarray(image)
    raise TypeError(
        f"an image must be a path, encoded bytes, a PIL image or a uint8 numpy array, got {type(image).__name__}")
