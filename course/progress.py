"""A progress line for long grading runs (standard library only).

On a terminal it redraws one line; in a log (CI, a batch job) it prints a line at every
tenth of the work, so the log stays short but shows the run is alive.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class Progress:
    """``[ 37/200] ######....  18%  graded 35, ungraded 2, flagged 4  3:12, ~14:20 left``"""

    WIDTH = 24

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self._last_tenth = -1
        self.update(Counter())

    def line(self, counts: Counter) -> str:
        done = counts["graded"] + counts["ungraded"]
        elapsed = time.monotonic() - self.start
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        left = f", ~{_clock(elapsed / done * (self.total - done))} left" if 0 < done < self.total else ""
        return (f"{self.label} [{done:>{len(str(self.total))}}/{self.total}] {bar} "
                f"{100 * done // self.total:3d}%  graded {counts['graded']}, ungraded "
                f"{counts['ungraded']}, flagged {counts['flagged']}  {_clock(elapsed)}{left}")

    def update(self, counts: Counter) -> None:
        done = counts["graded"] + counts["ungraded"]
        if self.tty:
            self.stream.write("\r" + self.line(counts) + "\x1b[K")
            self.stream.flush()
        elif 10 * done // self.total != self._last_tenth:
            self._last_tenth = 10 * done // self.total
            print(self.line(counts), file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
