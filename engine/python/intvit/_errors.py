"""Exceptions raised by intvit: each carries the C API status (``status``, ``status_name``) and
the engine's message, and also derives from the matching built-in exception."""

from __future__ import annotations


class Error(Exception):
    """A failed intvit call. ``status`` is the C API's ``intvit_status`` value, ``status_name``
    its name (``intvit_status_string``) and ``message`` the engine's message."""

    status: int = 7
    status_name: str = "internal error"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    """INTVIT_ERROR_INVALID_ARGUMENT: a bad argument, option, shape, dtype or stride."""

    status = 1
    status_name = "invalid argument"


class ReadError(Error, OSError):
    """INTVIT_ERROR_IO: a file or folder exists but cannot be read."""

    status = 2
    status_name = "i/o error"


class NotFoundError(ReadError, FileNotFoundError):
    """INTVIT_ERROR_IO on a path that does not exist."""


class CorruptModelError(Error):
    """INTVIT_ERROR_CORRUPT_MODEL: a model file is malformed, truncated or inconsistent."""

    status = 3
    status_name = "corrupt model"


class UnsupportedError(Error):
    """INTVIT_ERROR_UNSUPPORTED: valid but not supported here (format version, backend, FP32)."""

    status = 4
    status_name = "unsupported"


class OutOfMemoryError(Error, MemoryError):
    """INTVIT_ERROR_OUT_OF_MEMORY: memory or threads exhausted."""

    status = 5
    status_name = "out of memory"


class BufferTooSmallError(Error, ValueError):
    """INTVIT_ERROR_BUFFER_TOO_SMALL: an output buffer is shorter than needed."""

    status = 6
    status_name = "buffer too small"


class InternalError(Error, RuntimeError):
    """INTVIT_ERROR_INTERNAL: a bug in intvit; please report the message."""

    status = 7
    status_name = "internal error"


class CorruptImageError(Error, ValueError):
    """INTVIT_ERROR_CORRUPT_IMAGE: encoded image malformed, truncated or of an unknown format."""

    status = 8
    status_name = "corrupt image"


_BY_STATUS: dict[int, type[Error]] = {
    cls.status: cls
    for cls in (InvalidArgumentError, ReadError, CorruptModelError, UnsupportedError, OutOfMemoryError,
                BufferTooSmallError, InternalError, CorruptImageError)
}


def from_status(status: int, message: str, missing_path: bool = False) -> Error:
    """The exception for a C status (called by the extension module)."""
    if missing_path:
        err: Error = NotFoundError(message)
        err.errno = 2  # ENOENT, as FileNotFoundError carries it
        return err
    cls = _BY_STATUS.get(status, Error)
    return cls(message, status)
