"""The status line: run state, epoch n/N, elapsed time, ETA, a progress bar, a message.

The lab tells it when a run starts (``starting``) or none is on screen
(``idle``), each run state it enters (``show_state``, from the screen's
``run_state`` watcher) and the progress; it measures time with an injectable
clock so snapshot tests can freeze it.  Paused time is not counted as elapsed.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

STATE_STYLE = {
    "idle": "dim",
    "starting": "yellow",
    "running": "bold green",
    "paused": "bold yellow",
    "finished": "green",
    "stopped": "yellow",
    "failed": "bold red",
}

ENDED = ("finished", "stopped", "failed")

NOTE_SECONDS = 8.0
"""How long a status note that did not fit stays readable in full, as a notification."""
RATE_WINDOW = 5.0
"""Seconds of recent progress the ETA's rate is measured over."""


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour)."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StatusBar(Horizontal):
    """One line at the bottom: state, epoch n/N, elapsed, ETA, progress and a note."""

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.state = "idle"
        self.epoch = 0
        self.epochs = 0
        self.fraction = 0.0
        self.note = Text()
        self._started = 0.0
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._ended_at: float | None = None
        self._shown_width = -1
        self._said = ""
        """The cut note last said in full (a notification), so that it is said once."""
        self._rate_samples: deque[tuple[float, float]] = deque()
        """(elapsed seconds, fraction done) of recent progress reports: the ETA's rate."""

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")
        yield ProgressBar(total=1.0, show_eta=False, id="status-progress")
        yield Static(id="status-note")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_text)
        self.refresh_text()

    # ------------------------------------------------------------------ events

    def starting(self, epochs: int) -> None:
        self.state, self.epoch, self.epochs, self.fraction = "starting", 0, epochs, 0.0
        self._started = self.clock()
        self._paused_at, self._paused_total, self._ended_at = None, 0.0, None
        self._rate_samples.clear()
        self.refresh_text()

    def idle(self, epochs: int) -> None:
        """No run on screen (another preset was opened): ``idle epoch 0/N``."""
        self.state, self.epoch, self.epochs, self.fraction = "idle", 0, epochs, 0.0
        self._paused_at, self._paused_total, self._ended_at = None, 0.0, None
        self._rate_samples.clear()
        self.refresh_text()

    def show_state(self, state: str) -> None:
        """The run entered ``state`` (a ``RunState`` value): pausing stops the clock,
        going on restarts it, an end stops it for good."""
        if state == "paused":
            self.paused(True)
        elif state in ENDED:
            self.ended(state)
        else:
            self.paused(False)
            self.state = state
            self.refresh_text()

    def progress(self, epoch: int, fraction: float) -> None:
        self.epoch = epoch
        self.fraction = min(1.0, max(0.0, fraction))
        if self.state in ("running", "paused"):
            samples, now = self._rate_samples, self.elapsed
            samples.append((now, self.fraction))
            while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
                samples.popleft()
        self.refresh_text()

    def paused(self, paused: bool) -> None:
        now = self.clock()
        if paused and self._paused_at is None:
            self._paused_at = now
            self.state = "paused"
        elif not paused and self._paused_at is not None:
            self._paused_total += now - self._paused_at
            self._paused_at = None
            self.state = "running"
        self.refresh_text()

    def ended(self, state: str) -> None:
        if self._paused_at is not None:
            self.paused(False)
        self.state = state
        self._ended_at = self.clock()
        self.refresh_text()

    def set_note(self, note: str | Text, style: str = "") -> None:
        note = note if isinstance(note, Text) else Text(note, style=style)
        if note != self.note:  # the lab sets its note at every config change: most change nothing
            if note.plain != self.note.plain:
                self._said = ""
            self.note = note
            self.query_one("#status-note", Static).update(note, layout=False)  # one line, 1fr wide: no relayout
        if note.plain:
            self.call_after_refresh(self._say_if_cut)

    def _say_if_cut(self) -> None:
        """A note cut short at the edge (``…``) is also said in full, in a notification that stays."""
        room = self.query_one("#status-note", Static).content_region.width
        if room and self.note.cell_len > room and self._said != self.note.plain:
            self._said = self.note.plain  # once per note, however often it is set again
            self.app.notify(self.note.plain, timeout=NOTE_SECONDS, markup=False)

    # ------------------------------------------------------------------ text

    @property
    def elapsed(self) -> float:
        if self.state in ("idle",):
            return 0.0
        end = self._ended_at if self._ended_at is not None else self.clock()
        paused = self._paused_total + (end - self._paused_at if self._paused_at is not None else 0.0)
        return max(0.0, end - self._started - paused)

    def text(self) -> Text:
        out = Text()
        out.append(f"{self.state:<8}", style=STATE_STYLE.get(self.state, ""))
        out.append(f" epoch {self.epoch}/{self.epochs}  {clock_text(self.elapsed)}")
        eta = self.eta()
        if eta is not None:
            out.append(f"  ETA {clock_text(eta)}")
        return out

    def eta(self) -> float | None:
        """Seconds left at the rate measured over the last ``RATE_WINDOW`` seconds of
        training (start-up — importing torch, loading data — and pauses do not count);
        None until two progress reports have measured a rate."""
        if self.state not in ("running", "paused") or len(self._rate_samples) < 2:
            return None
        (t0, f0), (t1, f1) = self._rate_samples[0], self._rate_samples[-1]
        if f1 <= f0 or t1 <= t0:
            return None
        return (1 - f1) * (t1 - t0) / (f1 - f0)

    def refresh_text(self) -> None:
        text = self.text()
        # relayout only when the text's width changes: a relayout 4x a second starved training
        self.query_one("#status-text", Static).update(text, layout=len(text) != self._shown_width)
        self._shown_width = len(text)
        self.query_one("#status-progress", ProgressBar).update(total=1.0, progress=self.fraction)
