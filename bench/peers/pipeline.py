"""The whole pipeline as a user runs it: a folder of JPEG files -> top-5 classes per image.

Peers: PIL decode + resize + centre crop (images.preprocess) + normalise, the engine at a fixed batch,
top-5 with numpy. The next batch is decoded on a second thread while the engine runs the current one
(PIL releases the GIL while decoding and resizing), so the comparison is engine + preprocessing, not
a serial Python loop against a parallel C++ tool (`intvit classify` decodes and infers on its T threads).
intvit: `intvit classify --threads T --batch B --json FOLDER`; its images/s is the figure it prints
on stderr (first decode to last result, like the peers' timing: model loading is excluded for both).
Images per CPU-second (process CPU time, every thread: decoding and inference) is reported beside
images/s for both: unlike images/s it hardly depends on what other processes do meanwhile.

Both see the same files: every .jpg .jpeg .png .bmp .gif .ppm .pgm file under the folder, any case,
sorted by path in byte order (engine/image_files.h).
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import images
import timing

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm"}
TOP = 5


def list_images(folder: Path) -> list[Path]:
    files = [p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(files, key=lambda p: str(p).encode())


def _decode_batch(files: list[Path], batch: int, rounding: str) -> tuple[np.ndarray, int]:
    """Normalised NCHW float32 [batch, ...]; a short last batch is padded with copies of its first image."""
    pixels = np.stack([images.preprocess(f, rounding) for f in files])
    n = len(pixels)
    if n < batch:
        pixels = np.concatenate([pixels, np.repeat(pixels[:1], batch - n, axis=0)])
    return images.normalise_pixels(pixels), n


def run_once(run, files: list[Path], batch: int, rounding: str) -> tuple[float, list[list[int]]]:
    """One pass over the folder; (seconds, top-5 class indices per file)."""
    top5: list[list[int]] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as decoder:
        chunks = [files[i:i + batch] for i in range(0, len(files), batch)]
        pending = decoder.submit(_decode_batch, chunks[0], batch, rounding) if chunks else None
        for k in range(len(chunks)):
            x, n = pending.result()
            if k + 1 < len(chunks):
                pending = decoder.submit(_decode_batch, chunks[k + 1], batch, rounding)
            logits = run(x)[:n]
            order = np.argsort(-logits, axis=1, kind="stable")[:, :TOP]
            top5.extend(order.tolist())
    return time.perf_counter() - start, top5


def measure_peer(make_runner, folder: Path, batch: int, repeats: int, rounding: str) -> dict:
    files = list_images(folder)
    run = make_runner(batch)
    run(_decode_batch(files[:1], batch, rounding)[0])  # warm the runner (and the file cache below)
    seconds, top5 = [], None
    cpu0 = timing._own_cpu_seconds()
    for _ in range(repeats):
        s, top5 = run_once(run, files, batch, rounding)
        seconds.append(s)
    out = _summary(seconds, len(files), batch, [f.name for f in files], top5)
    cpu = timing._own_cpu_seconds() - cpu0  # this process: decode thread and engine threads
    out["images_per_cpu_s"] = repeats * len(files) / cpu if cpu > 0 else 0.0
    return out


_SPEED = re.compile(r"intvit classify: (\d+) images in ([0-9.]+) s: ([0-9.]+) images/s.*; ([0-9.]+) per CPU-second")


def measure_intvit(cli: Path, model: Path, folder: Path, threads: int, batch: int, repeats: int) -> dict:
    cmd = [str(cli), "classify", "--model", str(model), "--threads", str(threads), "--batch", str(batch),
           "--top", str(TOP), "--json", str(folder)]
    seconds, walls, cpu_rates, top5, names = [], [], [], None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        m = _SPEED.search(proc.stderr)
        if not m:
            raise RuntimeError(f"no images/s line in intvit classify's stderr:\n{proc.stderr}")
        seconds.append(float(m.group(2)))
        cpu_rates.append(float(m.group(4)))
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        names = [Path(r["image"]).name for r in rows]
        top5 = [[t["class"] for t in r["top"]] for r in rows]
    out = _summary(seconds, len(names), batch, names, top5)
    out["images_per_cpu_s"] = statistics.median(cpu_rates)
    out["wall_s_with_model_load"] = round(statistics.median(walls), 2)
    out["command"] = " ".join(cmd)
    return out


def _summary(seconds: list[float], count: int, batch: int, names: list[str], top5) -> dict:
    rates = [count / s for s in seconds]
    median = statistics.median(rates)
    return {"images": count, "batch": batch, "images_per_s": median, "repeats_images_per_s": rates,
            "spread_pct": 100.0 * (max(rates) - min(rates)) / median if median else 0.0,
            "names": names, "top5": top5}


def accuracy(result: dict, labels_by_name: dict[str, int]) -> tuple[float | None, float | None]:
    """(top-1, top-5) over the files that labels.csv names."""
    hits1 = hits5 = total = 0
    for name, top in zip(result["names"], result["top5"]):
        if name in labels_by_name:
            total += 1
            hits1 += top[0] == labels_by_name[name]
            hits5 += labels_by_name[name] in top
    return (hits1 / total, hits5 / total) if total else (None, None)
