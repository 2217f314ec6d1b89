"""The lab's plain runs train in a child process: the lab's own process only draws.

Trained in a thread of the lab's process, a run shares the GIL with the UI
thread, whose rendering (plotext, the compositor) took 165–425 ms of CPU per
second of training and held the GIL the trainer needed: the lab trained at
0.16–0.28× headless speed on a loaded machine (issue 20).  Here the run's body
is ``runner._train`` as before (the ``Run``, its branches, the flush batching,
insight), but executed in a process forked for the run; the Textual worker
thread (``train``, what ``RunSession.start`` runs) starts that process, posts
what it sends, and forwards the lab's control to it:

* **pause and stop**: ``control(run_id)`` makes a ``RunControl`` whose events
  are ``multiprocessing`` events, shared with the child, so they take effect
  within one batch as in a thread (``runner.may_go_on``);
* **insight and branch requests**: the UI swaps a new value into
  ``control.insight`` / ``control.branch`` as before; the worker thread sees
  the new reference (every ``RELAY_INTERVAL`` at most) and sends it over a
  pipe, where a thread of the child swaps it into the child's control;
* **messages**: the child's ``post`` sends each message as its class name and
  fields over a pipe (``_wire``); the worker thread rebuilds it and posts it
  (``_message``).  When the child's pipe closes without a ``RunFinished`` or
  ``RunFailed``, the run ends as a ``RunFailed`` that says how the process
  ended (killed, crashed): never a hang.

Start cost.  The child is forked by a ``forkserver`` whose server imports
torch, sklearn's data sets and the training modules once (``PRELOAD``);
``start_server()`` (``RunSession``, when the lab opens) starts it in a daemon
thread, so ``r`` forks a warm process in milliseconds instead of spawning a
fresh interpreter (5–7 s here).  ``start_server`` also starts multiprocessing's
resource tracker at once, on the calling thread, before ``App.run``: started
while the app runs, it fails (``ValueError: bad value(s) in fds_to_keep``,
Textual's ``sys.stderr`` has no file descriptor).  The server's children
inherit the *server's* environment, so each run carries the lab's current
``os.environ`` (``REGTUI_HOME`` — the run history —, ``REGTUI_THREADS``, …;
tests change them per test) and the experiment with its data path made
absolute; multiprocessing also sets the child's working folder to the lab's.
The child's stdout and stderr go to ``os.devnull`` (the lab's terminal is
Textual's); it is a session of its own (``os.setsid``: where the kernel groups
processes by session to share the CPU, ``sched_autogroup``, the run no longer
shares one group's share with the lab's UI; article, 200 epochs in the lab,
3 interleaved rounds at load 2.6–2.9: training 2.78 s → 1.97 s median); it ignores SIGINT and takes SIGTERM as a stop; when the lab's end
of the control pipe closes (the lab has gone), it stops as if ``x`` was pressed
— its run is recorded as stopped either way.

Opt-in for now: ``REGTUI_WORKER=process`` (``MODE_ENV``) trains here; without
it, or on a platform without ``forkserver``, the worker thread trains itself
(``runner.train``), as before.  The child once trained ~10× slower than the
thread: it trains in its main thread, which the fork server had used with
torch's default of two intra-op threads, and ``Run.prepare`` set one only in
its helper thread; the second OpenMP thread spun on the core the UI needs
(``Run.events`` now sets the count in the thread that trains).
Since then (``benchmarks/bench_ui_throughput.py``, benchmarks/README.md §2,
two runs of 3 interleaved rounds at load 2–3) the child trains at 0.70–0.76×
headless (article) and 0.57–0.64× (moons-overfit), the thread at 0.50–0.64× and
0.49–0.51×: the child is ahead, but neither reaches issue 20's 0.9×, so the
default stays the thread.  Messages are not the cost:
0.1–0.3 per epoch (``EpochsEnded`` every ``runner.FLUSH_INTERVAL``,
``BatchProgress`` every ``runner.PROGRESS_INTERVAL``), ~25 ms of ``send`` in
a 500-epoch run, received a median 1 ms after they are sent.  Sweeps
(``sweep_runner``) still train in a thread.  README.md, "Development".
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import resource
import signal
import threading
import time
from multiprocessing import connection
from typing import Any, Callable

from textual.message import Message

from regtui.core.config import Experiment, absolute_data_path
from regtui.ui.worker import messages, runner
from regtui.ui.worker.messages import RunFailed, RunFinished

MODE_ENV = "REGTUI_WORKER"
"""``process``: train in a child process; anything else (the default): in the lab's worker thread."""

PRELOAD = [
    "regtui.ui.worker.process", "regtui.core.training", "regtui.core.store", "regtui.core.recorder",
    "regtui.core.insight", "regtui.core.branch", "sklearn.datasets",
]
"""What the fork server imports before it forks a run (the slow part of a start)."""

RELAY_INTERVAL = 0.05
"""Seconds the worker thread waits for the child's messages before it looks at the control."""
STOP_GRACE = 5.0
"""Seconds a stopped child may take to end before it is terminated (then killed)."""

_server_lock = threading.Lock()
_server: threading.Thread | None = None


def wanted() -> bool:
    """Whether plain runs train in a child process (``REGTUI_WORKER=process``, where ``forkserver`` exists)."""
    return (os.environ.get(MODE_ENV, "") == "process"
            and "forkserver" in multiprocessing.get_all_start_methods())


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_server() -> None:
    """Start multiprocessing's resource tracker now and the fork server in the background
    (it imports ``PRELOAD``: seconds); once per process.  Call before ``App.run``."""
    global _server
    from multiprocessing import forkserver, resource_tracker

    with _server_lock:
        if _server is not None:
            return
        resource_tracker.ensure_running()  # needs a real sys.stderr: before Textual replaces it
        _context()
        _server = threading.Thread(target=forkserver.ensure_running, name="regtui-forkserver", daemon=True)
        _server.start()


def control(run_id: int) -> runner.RunControl:
    """A ``RunControl`` whose events the lab and the run's child process share."""
    start_server()
    ctx = _context()
    return runner.RunControl(run_id, resume=ctx.Event(), stop=ctx.Event(), done=ctx.Event())


# --------------------------------------------------------------------------- messages over the pipe

def _wire(message: Message) -> tuple[str, dict[str, Any]]:
    """A worker message as plain data: its class's name and its fields."""
    return type(message).__name__, {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}


def _message(item: tuple[str, dict[str, Any]]) -> messages.RunMessage:
    name, fields = item
    cls = getattr(messages, name, None)
    if not (isinstance(cls, type) and issubclass(cls, messages.RunMessage)):
        raise TypeError(f"the training process sent {name!r}, not a worker message")
    return cls(**fields)


USAGE = "usage"
"""The child's last item on its pipe: ``(USAGE, {"cpu_s": …})``."""


def _ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "the training process did not end"
    if exitcode < 0:
        try:
            return f"the training process was killed ({signal.Signals(-exitcode).name})"
        except ValueError:
            return f"the training process was killed (signal {-exitcode})"
    return f"the training process ended with exit code {exitcode} before the run did"


# --------------------------------------------------------------------------- the lab's side

def train(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: runner.RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    """Run one experiment to its end in a child process, posting what it sends
    (``control`` from ``control()``)."""
    runner.guarded(_relay, post, experiment, control, is_cancelled)


def _relay(
    post: Callable[[Message], object],
    experiment: Experiment,
    control: runner.RunControl,
    is_cancelled: Callable[[], bool],
) -> None:
    rid = control.run_id
    ctx = _context()
    inbox, to_child = ctx.Pipe(duplex=False)  # the lab's requests
    from_child, outbox = ctx.Pipe(duplex=False)  # the child's messages
    child = ctx.Process(target=_child_main, name=f"regtui-run-{rid}", daemon=True,
                        args=(absolute_data_path(experiment), control, inbox, outbox, dict(os.environ)))

    def start() -> None:
        try:
            child.start()  # waits for the fork server, if it is still importing torch
        finally:
            inbox.close()
            outbox.close()

    try:
        ok, _ = runner.in_background(start, control, is_cancelled, name="regtui-run-start")
        if not ok:  # stopped first: the child, if it comes, sees the stop and ends at once
            post(RunFinished(rid, stopped=True))
            return
        _follow(post, control, is_cancelled, child, from_child, to_child)
    finally:
        from_child.close()
        to_child.close()


def _follow(post: Callable[[Message], object], control: runner.RunControl, is_cancelled: Callable[[], bool],
            child: Any, from_child: Any, to_child: Any) -> None:
    """Post the child's messages and forward the control until the child has ended."""
    rid = control.run_id
    insight, branch = control.insight, control.branch  # what the child started with
    ended = False  # a RunFinished or RunFailed came
    stop_since: float | None = None
    open_pipe = True
    while open_pipe:
        connection.wait([from_child, child.sentinel], RELAY_INTERVAL)
        try:
            while from_child.poll():
                item = from_child.recv()
                if item[0] == USAGE:
                    control.process_cpu_s = item[1]["cpu_s"]
                    continue
                message = _message(item)
                ended = ended or isinstance(message, (RunFinished, RunFailed))
                post(message)
        except (EOFError, OSError):  # the child's end is closed: it has ended
            open_pipe = False
        if is_cancelled():
            control.request_stop()
        if not child.is_alive() and not from_child.poll():
            open_pipe = False
        try:
            if control.insight is not insight:
                insight = control.insight
                to_child.send(("insight", insight))
            if control.branch is not branch:
                branch = control.branch
                to_child.send(("branch", branch))
        except OSError:  # the child has gone; its end is read above
            pass
        if control.stop.is_set():
            stop_since = stop_since if stop_since is not None else time.monotonic()
            waited = time.monotonic() - stop_since
            if waited > STOP_GRACE and child.is_alive():
                (child.kill if waited > 2 * STOP_GRACE else child.terminate)()
    child.join(STOP_GRACE)
    if not ended:
        post(RunFailed(rid, _ended(child.exitcode)))


# --------------------------------------------------------------------------- the child's side

def _child_main(experiment: Experiment, control: runner.RunControl, inbox: Any, outbox: Any,
                environ: dict[str, str]) -> None:
    """The run's process: ``runner._train`` with ``post`` writing to the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)  # nothing reaches the lab's screen
    os.environ.clear()
    os.environ.update(environ)  # REGTUI_HOME & co. as the lab has them now, not as the server had them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the lab decides when its run stops
    try:
        os.setsid()  # a session of its own: with autogroup scheduling, not the UI's share of the CPU
    except OSError:
        pass
    signal.signal(signal.SIGTERM, lambda _s, _f: control.request_stop())
    threading.Thread(target=_listen, args=(inbox, control), name="regtui-control", daemon=True).start()

    def post(message: Message) -> None:
        try:
            outbox.send(_wire(message))
        except OSError:  # the lab has gone; the listener stops the run
            pass

    runner.train(post, experiment, control, lambda: False)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        outbox.send((USAGE, {"cpu_s": usage.ru_utime + usage.ru_stime}))
    except OSError:
        pass


def _listen(inbox: Any, control: runner.RunControl) -> None:
    """The child's thread that swaps in the lab's requests; the lab gone is a stop."""
    while True:
        try:
            what, value = inbox.recv()
        except (EOFError, OSError):
            control.request_stop()
            return
        if what == "insight":
            control.insight = value
        elif what == "branch":
            control.branch = value
