"""The GIL is released during runs (two threads with two sessions run at the same time), a
session's queries take turns with its runs, and 10,000 calls keep the process's memory flat."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

import intvit
from conftest import TEST_IMAGES

IMAGES = sorted(str(p) for p in TEST_IMAGES.iterdir())


@pytest.fixture(scope="module")
def model(default_model_dir):
    return intvit.load(default_model_dir, threads=1)


def test_two_sessions_run_in_parallel_with_the_gil_released(model):
    one = np.stack([model.preprocess(p) for p in IMAGES])
    start = time.perf_counter()
    model.logits(one)
    per_batch = time.perf_counter() - start
    # A batch long enough (~0.6 s) that scheduling noise is small beside it.
    batch = np.concatenate([one] * max(1, int(0.6 / max(per_batch, 1e-4))))
    expected = model.logits(batch)
    sessions = [model.clone(threads=1), model.clone(threads=1)]
    spans, results = [None, None], [None, None]
    go = threading.Barrier(3)

    def worker(i):
        go.wait()
        t0 = time.perf_counter()
        results[i] = sessions[i].logits(batch)
        spans[i] = (t0, time.perf_counter())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    stamps = []  # the main thread runs Python while both workers are inside the C call
    go.wait()
    while any(t.is_alive() for t in threads):
        stamps.append(time.perf_counter())
        time.sleep(0.002)
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)
    shortest = min(end - begin for begin, end in spans)
    overlap = (max(s[0] for s in spans), min(s[1] for s in spans))
    # With the GIL held in C the two calls would run one after the other: no shared half, and
    # the main thread would stall for a whole call.
    assert overlap[1] - overlap[0] >= 0.5 * shortest, (spans, shortest)
    inside = [overlap[0]] + [s for s in stamps if overlap[0] < s < overlap[1]] + [overlap[1]]
    largest_gap = max(b - a for a, b in zip(inside, inside[1:]))
    assert largest_gap < 0.5 * shortest, (largest_gap, shortest)


@pytest.mark.parametrize("query", ["threads", "workspace_bytes", "backend"])
def test_session_queries_wait_for_a_run_on_another_thread(model, query):
    # A run may re-plan the session's workspaces (a bigger batch), so the session's queries take
    # turns with runs like runs do: read during a run, they return only after it.
    session = model.clone(threads=1)
    batch = np.stack([model.preprocess(p) for p in IMAGES])
    while True:  # a batch of >= 1 s, measured as it is (the host may be busy); grows the workspace too
        start = time.perf_counter()
        session.logits(batch)
        took = time.perf_counter() - start
        if took >= 1.0:
            break
        batch = np.concatenate([batch] * max(2, math.ceil(1.2 / max(took, 1e-3))))
    started = threading.Event()
    span = []

    def run():
        started.set()
        t0 = time.perf_counter()
        session.logits(batch)
        span.extend([t0, time.perf_counter()])

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    time.sleep(0.2 * took)  # the worker is inside the run (GIL released, session locked)
    asked = time.perf_counter()
    getattr(session, query)
    answered = time.perf_counter()
    worker.join()
    t0, t1 = span
    assert asked < t1 - 0.1, f"the run ended before the query: the test proves nothing ({t1 - t0:.3f} s run)"
    assert answered >= t1 - 0.05, (f"{query} answered {t1 - answered:.3f} s before the run on another thread ended "
                                   f"(asked {asked - t0:.3f} s into a {t1 - t0:.3f} s run)")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_ten_thousand_calls_keep_memory_flat(model, tmp_path):
    s = model.input_size
    batch = np.stack([model.preprocess(p) for p in IMAGES[:2]])
    encoded = (TEST_IMAGES / "png_rgb8.png").read_bytes()
    array = np.zeros((40, 30, 3), np.uint8)
    missing = str(tmp_path / "missing.png")

    def call(i):
        k = i % 5
        if k == 0:
            assert model.logits(batch).shape == (2, model.num_classes)
        elif k == 1:
            assert len(model.classify([encoded, array], top=3)) == 2
        elif k == 2:
            assert model.preprocess(array).shape == (s, s, 3)
        elif k == 3:
            with pytest.raises(FileNotFoundError):
                model.classify([missing])
        else:
            with pytest.raises(ValueError):
                model.logits(batch[:, :, :5])

    for i in range(1000):  # warm-up: allocator pools, numpy caches
        call(i)
    before = rss_bytes()
    for i in range(10_000):
        call(i)
    grown = rss_bytes() - before
    # A leak of one cropped input (a few KB) or one logits array per call would add > 10 MB.
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 10,000 calls"
