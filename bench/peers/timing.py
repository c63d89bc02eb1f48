"""Throughput and latency measurement, and how busy the machine was while measuring.

Two views of "busy": the 1-minute load average (/proc/loadavg) before each measurement, which lags,
and the cores that other processes used during the timed runs themselves (system CPU time from
/proc/stat minus this process's own CPU time), which does not.
"""
from __future__ import annotations

import os
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average_1min() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def _system_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (user+nice+system+irq+softirq+steal) since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class OthersCpu:
    """Average number of cores used by other processes between start() and stop()."""

    def start(self) -> None:
        self._t = time.perf_counter()
        self._busy = _system_busy_seconds()
        self._own = _own_cpu_seconds()

    def stop(self) -> float:
        wall = time.perf_counter() - self._t
        others = (_system_busy_seconds() - self._busy) - (_own_cpu_seconds() - self._own)
        return max(0.0, others / wall) if wall > 0 else 0.0


@dataclass
class Measurement:
    batch: int
    threads: int
    images_per_s: float = 0.0          # median over repeats
    repeats_images_per_s: list[float] = field(default_factory=list)
    spread_pct: float = 0.0            # (max - min) / median of the repeats
    p50_ms: float = 0.0                # latency of one call (one batch)
    p90_ms: float = 0.0
    calls: int = 0
    load1_before: float = 0.0          # highest 1-minute load average seen before a repeat
    others_cores: float = 0.0          # highest cores used by other processes during a repeat
    images_per_cpu_s: float = 0.0      # images per second of this process's CPU time (all threads) over
                                       # the repeats: a dedicated core's rate at 1 thread, load-robust
    warning: str = ""
    refused: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def busy_warning(threads: int, load1: float, others_cores: float) -> str:
    """Non-empty when the machine was too busy for the numbers to mean much."""
    reasons = []
    if load1 > threads + 0.5:
        reasons.append(f"1-min load {load1:.2f} > {threads} threads + 0.5")
    if others_cores > 0.5:
        reasons.append(f"other processes used {others_cores:.2f} cores while timing")
    return "; ".join(reasons)


def measure(run_once: Callable[[], object], batch: int, threads: int, seconds: float, repeats: int = 3,
            warmup_seconds: float = 1.0, refuse_when_busy: bool = False) -> Measurement:
    """Warm up, then `repeats` timed runs of at least `seconds` each (at least 2 calls per run)."""
    m = Measurement(batch=batch, threads=threads)
    m.load1_before = load_average_1min()
    if refuse_when_busy and m.load1_before > threads + 0.5:
        m.refused = True
        m.warning = busy_warning(threads, m.load1_before, 0.0) + " -- not measured"
        return m

    deadline = time.perf_counter() + warmup_seconds
    for i in range(1000000):
        run_once()
        if i >= 2 and time.perf_counter() >= deadline:
            break

    latencies = []
    others = OthersCpu()
    cpu0 = _own_cpu_seconds()
    for _ in range(repeats):
        m.load1_before = max(m.load1_before, load_average_1min())
        calls = 0
        others.start()
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            run_once()
            t1 = time.perf_counter()
            latencies.append(t1 - t0)
            calls += 1
            if calls >= 2 and t1 - start >= seconds:
                break
        m.others_cores = max(m.others_cores, others.stop())
        m.repeats_images_per_s.append(calls * batch / (t1 - start))
        m.calls += calls

    cpu = _own_cpu_seconds() - cpu0
    m.images_per_cpu_s = m.calls * batch / cpu if cpu > 0 else 0.0
    m.images_per_s = statistics.median(m.repeats_images_per_s)
    m.spread_pct = 100.0 * (max(m.repeats_images_per_s) - min(m.repeats_images_per_s)) / m.images_per_s
    latencies.sort()
    m.p50_ms = 1e3 * latencies[int(0.5 * (len(latencies) - 1))]
    m.p90_ms = 1e3 * latencies[int(0.9 * (len(latencies) - 1))]
    m.warning = busy_warning(threads, m.load1_before, m.others_cores)
    return m
