"""A one-line progress bar for the operator CLI's long commands (SPEC §2.6).

Drawn only on a terminal: when the stream is a file or a pipe (a log, CI, a test), it
writes nothing at all, so redirected output holds just the summary. No third-party
library: a carriage return and one line are all a terminal needs.
"""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 30
MIN_INTERVAL_SECONDS = 0.1
"""Redraw at most ten times a second: writing on every row would slow a fast import."""


class ProgressLine:
    """``label [#####.....] processed/total``, redrawn in place on ``stream``."""

    def __init__(self, stream: TextIO, total: int, label: str = "") -> None:
        self._stream = stream
        self._total = total
        self._label = label
        self._enabled = _is_terminal(stream)
        self._last_draw = 0.0
        self._drawn = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    def update(self, processed: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if processed < self._total and now - self._last_draw < MIN_INTERVAL_SECONDS:
            return
        self._last_draw = now
        self._stream.write("\r" + self.render(processed))
        self._stream.flush()
        self._drawn = True

    def render(self, processed: int) -> str:
        """The line for ``processed`` rows (without the carriage return)."""
        fraction = min(processed / self._total, 1.0) if self._total else 1.0
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        prefix = f"{self._label} " if self._label else ""
        return f"{prefix}[{bar}] {processed}/{self._total}"

    def close(self) -> None:
        """End the line, so whatever is printed next starts on a fresh one."""
        if self._enabled and self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
