"""Reads the uint8 `pixels` tensor of a .safetensors file with numpy (no extra dependency)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np


def read_pixels(path: Path, name: str = "pixels") -> np.ndarray:
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
        entry = header[name]
        assert entry["dtype"] == "U8"
        begin, end = entry["data_offsets"]
        f.seek(8 + header_len + begin)
        data = np.frombuffer(f.read(end - begin), np.uint8)
    return data.reshape(entry["shape"])
