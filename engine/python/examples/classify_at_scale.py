#!/usr/bin/env python3
"""Classifies a folder (or a list of URIs) of images on a Ray cluster with intvit and writes
Parquet: path, top-5 classes, labels, probabilities. Prints images/s for each actor count.

    # one machine (Ray starts locally):
    python classify_at_scale.py --model models/default/fashion-vit --images tests/data/images --out /tmp/preds
    # a cluster: `ray start --head` on one node, `ray start --address HEAD:6379` on the others, then
    python classify_at_scale.py --address HEAD:6379 --model /shared/model --images s3://bucket/imgs --out /shared/out --actors 8

The model path and the image URIs must be readable from every node (shared folder or object store).
"""

from __future__ import annotations

import argparse
import inspect
import time
from typing import List, Optional, Sequence

import ray

import intvit.ray


# Files read from a folder (others, e.g. a labels.csv beside the images, are skipped).
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "bmp", "gif", "pgm", "ppm"]
IMAGE_EXTENSIONS += [e.upper() for e in IMAGE_EXTENSIONS]


def no_cpu_reserved(read_fn) -> dict:
    # Read tasks reserve no CPU: with one actor per core they could never be scheduled otherwise
    # (reading files is I/O; older Ray versions take the option through ray_remote_args).
    if "num_cpus" in inspect.signature(read_fn).parameters:
        return {"num_cpus": 0}
    return {"ray_remote_args": {"num_cpus": 0}}


def read(images: Sequence[str], decode: bool):
    """A dataset with a `path` column and either decoded `image` arrays (read_images, decoded by Ray
    with PIL) or encoded `bytes` (read_binary_files, decoded by intvit's own decoder)."""
    if decode:
        return ray.data.read_images(list(images), include_paths=True, mode="RGB", file_extensions=IMAGE_EXTENSIONS,
                                    **no_cpu_reserved(ray.data.read_images))
    return ray.data.read_binary_files(list(images), include_paths=True, file_extensions=IMAGE_EXTENSIONS,
                                      **no_cpu_reserved(ray.data.read_binary_files))


def run(model: str, images: Sequence[str], out: Optional[str], actors: int, *, batch_size: int = 16,
        decode_with_ray: bool = False, top: int = 5) -> dict:
    """Classifies `images` with `actors` actors (1 CPU each); writes Parquet to `out` (if given).
    Returns {"rows", "seconds", "images_per_s"}."""
    ds = read(images, decode_with_ray)
    column = "image" if decode_with_ray else "bytes"
    start = time.perf_counter()
    result = intvit.ray.classify_dataset(ds, model, actors=actors, batch_size=batch_size, top=top, column=column)
    if out:
        result.write_parquet(out)
        rows = ray.data.read_parquet(out).count()
    else:
        rows = result.count()
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "images_per_s": rows / seconds}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="model folder or file, readable on every node")
    p.add_argument("--images", required=True, nargs="+", help="folder(s), files or URIs (s3://, gs://, ...)")
    p.add_argument("--out", help="Parquet output folder (one run per actor count: OUT/N-actors)")
    p.add_argument("--actors", default="1,2", help="comma-separated actor counts to run (default 1,2)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--address", help="Ray cluster address (default: start or join a local Ray)")
    p.add_argument("--decode-with-ray", action="store_true",
                   help="decode with ray.data.read_images (PIL) instead of intvit's decoder")
    args = p.parse_args(argv)
    ray.init(address=args.address, ignore_reinit_error=True, log_to_driver=False)
    for n in [int(a) for a in args.actors.split(",")]:
        out = f"{args.out}/{n}-actors" if args.out else None
        r = run(args.model, args.images, out, n, batch_size=args.batch_size, decode_with_ray=args.decode_with_ray)
        print(f"actors={n}: {r['rows']} images in {r['seconds']:.1f} s = {r['images_per_s']:.1f} images/s"
              + (f" -> {out}" if out else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
