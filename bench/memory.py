"""Peak resident memory of this process during one phase (ru_maxrss only knows the whole run)."""

from __future__ import annotations

import threading

import psutil


def rss_mb() -> float:
    """Current resident set size in MiB (of the calling process: a forked worker measures itself)."""
    return psutil.Process().memory_info().rss / (1024 * 1024)


class PeakRss:
    """`with PeakRss() as peak: …` then `peak.mb`: the highest RSS sampled every 20 ms."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.mb = max(self.mb, rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.mb = max(self.mb, rss_mb())
