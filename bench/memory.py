"""Peak resident memory of this process during one phase (ru_maxrss only knows the whole run)."""
from __future__ import annotations

import threading
from pathlib import Path


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; 0 where it is not available)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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
