#!/usr/bin/env python3
"""images/s of intvit.Model.logits on batches of random cropped inputs, to set beside
`intvit-bench model --model DIR --batch B --threads T` (same session, same call underneath).

    build/venv/bin/python bench/python_bench.py --model DIR --batch 8 --threads 1,2 --seconds 5
"""

import argparse
import time

import numpy as np

import intvit


def measure(model, batch: np.ndarray, seconds: float, repeats: int) -> list:
    model.logits(batch)  # warm-up
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model.logits(batch)
            calls += 1
        rates.append(calls * len(batch) / (time.perf_counter() - start))
    return rates


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    for t in (int(x) for x in a.threads.split(",")):
        model = intvit.load(a.model, threads=t)
        s = model.input_size
        batch = np.random.default_rng(1).integers(0, 256, (a.batch, s, s, 3), dtype=np.uint8)
        rates = measure(model, batch, a.seconds, a.repeats)
        print(f"batch {a.batch} threads {t} backend {model.backend}: median {sorted(rates)[len(rates) // 2]:.2f} "
              f"images/s (repeats {', '.join(f'{r:.2f}' for r in rates)})", flush=True)


if __name__ == "__main__":
    main()
