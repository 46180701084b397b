"""Clocks and figures: timing loops, percentiles, and the record each measurement returns."""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    """One measured figure against its floor; `target` is the ratio (and time) the issue asks for."""

    name: str
    value: float | None  #: seconds (or messages/s when `unit` says so)
    floor: float | None
    floor_name: str = ""
    unit: str = "s"
    target_ratio: float | None = None
    target_value: float | None = None  #: an absolute ceiling in `unit`, e.g. 10 s or 50 ms
    target_margin: float | None = None  #: at most this much above the floor, in `unit` (e.g. 3 ms above its SQL)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    memory: int | None = None  #: peak growth of the process's resident memory while the figure ran, bytes
    floor_memory: int | None = None  #: the same for the floor
    errors: int | None = None  #: failed requests of a load figure (any is a miss)

    @property
    def ratio(self) -> float | None:
        """Figure over floor (for a rate, floor over figure: higher still means slower)."""
        if not self.value or not self.floor:
            return None
        return self.floor / self.value if self.unit == "msg/s" else self.value / self.floor

    @property
    def met(self) -> bool | None:
        """Whether the targets hold (None: no target, or not measured)."""
        if self.value is None or (self.target_ratio is None and self.target_value is None
                                   and self.target_margin is None and self.errors is None):
            return None
        ok = self.target_ratio is None or (self.ratio is not None and self.ratio <= self.target_ratio)
        ok = ok and (self.target_margin is None or (self.floor is not None
                                                    and self.value - self.floor <= self.target_margin))
        return ok and (self.target_value is None or self.value <= self.target_value) and not self.errors


def not_measured(name: str, why: str) -> Figure:
    """A row saying clearly that a figure was not measured, and why."""
    return Figure(name, None, None, note=f"not measured: {why}")


_PAGE = os.sysconf("SC_PAGE_SIZE")
last_peak: int | None = None  #: peak resident-memory growth of the last `once` (bytes), for the figure's record


def rss() -> int:
    """The process's resident memory now, in bytes (Linux /proc)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


class PeakMemory:
    """Samples resident memory every few milliseconds in a thread; `peak` is the growth over the start."""

    def __init__(self, every: float = 0.005) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()

    def __enter__(self) -> PeakMemory:
        self.start = rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss() - self.start)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss() - self.start)


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run `fn` once with the collector quiet; return (seconds, result); its memory peak goes to `last_peak`."""
    global last_peak
    gc.collect()
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    last_peak = memory.peak
    return seconds, result


def mb(size: int | None) -> str:
    """Bytes as MB for the tables ("–" when not measured)."""
    return "–" if size is None else f"{size / 1e6:,.0f} MB"


def repeat(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    """Time `n` calls of `fn` after `warmup` untimed ones; return the durations in seconds."""
    for _ in range(warmup):
        fn()
    gc.collect()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `samples`."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def fmt(value: float | None, unit: str = "s") -> str:
    """Human-readable value: ms below a second, messages per second as they are."""
    if value is None:
        return "–"
    if unit == "msg/s":
        return f"{value:,.0f} msg/s"
    return f"{value * 1000:.2f} ms" if value < 1 else f"{value:.2f} s"
