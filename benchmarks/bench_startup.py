"""Benchmark 5: time to first paint of ``regtui`` vs ``python -c "import torch"``.

* **first paint (pty)**: ``regtui`` (the installed console script, default
  preset) is started in a pseudo-terminal of 120×40; the time from spawn to
  the first screen frame (the first cursor-positioned write) is measured, then
  ``q`` quits it.  This is what a user sees.
* **first paint (run_test)**: a child process imports the lab, opens it under
  ``App.run_test()``, lets one refresh happen and reports whether torch was
  already imported at that moment.
* ``python -c "import torch"`` and ``python -c pass`` in the same rounds.
* ``regtui --help``: wall time, and a check (in-process) that neither torch
  nor textual is imported by it.
* **headless start**: ``regtui run moons-overfit --set train.epochs=0`` (loads
  the preset, draws the data, builds the stack, evaluates epoch 0, writes the
  run) against ``import torch``; ``import torch, torch._dynamo`` beside it
  shows what ``torch.optim.Optimizer`` would add (issue 20); the ratio in wall
  time and in CPU time (user + system of the two processes, which load on a
  shared machine disturbs less).

Targets: first paint < the time of ``import torch`` alone (painting does not
wait for torch), torch not imported at first paint, ``--help`` imports no
torch, and the headless start ≤ 1.15× ``import torch``.

    python benchmarks/bench_startup.py [--quick] [--json out.json]
"""

from __future__ import annotations

import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import _common as C

PY = sys.executable
FRAME = re.compile(rb"\x1b\[\d+;\d+H")
SIZE = (120, 40)


def regtui_command() -> list[str]:
    script = Path(PY).with_name("regtui")
    if script.exists():
        return [str(script)]
    found = shutil.which("regtui")
    return [found] if found else [PY, "-m", "regtui"]


def wall(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=C.ROOT)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def pty_first_paint(timeout: float = 20.0) -> float:
    """Seconds from spawning ``regtui`` in a pty to its first frame."""
    import fcntl
    import pty
    import struct
    import termios

    cmd = regtui_command()
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("TEXTUAL", None)
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    painted = None
    buf = b""
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf = (buf + chunk)[-64:]
            if FRAME.search(chunk) or FRAME.search(buf):
                painted = time.perf_counter() - t0
                break
        if painted is not None:
            try:
                os.write(fd, b"q")
            except OSError:
                pass
            end = time.time() + 5
            while time.time() < end:  # drain so the child is not blocked writing
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    pid = 0
                    break
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        os.read(fd, 65536)
                    except OSError:
                        pass
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)  # our own child only
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(fd)
    if painted is None:
        raise RuntimeError(f"no frame from {' '.join(cmd)} within {timeout:.0f} s")
    return painted


RUN_TEST_CHILD = r"""
import asyncio, sys, time
async def main():
    from regtui.core import presets
    from regtui.ui.app import create_app
    app = create_app(presets.load(presets.DEFAULT_PRESET))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print("PAINTED", "torch" in sys.modules, flush=True)
        sys.stdout.flush()
        await app.action_quit() if hasattr(app, "action_quit") else app.exit()
asyncio.run(main())
"""


def run_test_first_paint() -> tuple[float, bool]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", RUN_TEST_CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=C.ROOT)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(b"PAINTED"):
                elapsed = time.perf_counter() - t0
                return elapsed, line.split()[1] == b"True"
        raise RuntimeError(f"the lab never painted under run_test: {proc.stderr.read().decode()[-400:] if proc.stderr else ''}")
    finally:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


HELP_CHILD = r"""
import contextlib, io, sys
from regtui.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
print("torch" in sys.modules, "textual" in sys.modules)
"""


def run(quick: bool) -> list[C.Result]:
    C.scratch_home()  # children inherit it: nothing lands in the user's history
    reps = 1 if quick else 3
    try:
        from regtui.ui.app import create_app  # noqa: F401
        ui = True
    except Exception as exc:
        ui, why = False, f"{type(exc).__name__}: {exc}"
    cases = {
        "python -c pass": lambda: wall([PY, "-c", "pass"]),
        "import torch": lambda: wall([PY, "-c", "import torch"]),
        "regtui --help": lambda: wall(regtui_command() + ["--help"]),
        "import torch, torch._dynamo": lambda: wall([PY, "-c", "import torch, torch._dynamo"]),
        "regtui run, 0 epochs": lambda: wall(regtui_command() + ["run", "moons-overfit", "--set", "train.epochs=0"]),
    }
    if ui:
        cases["first paint (pty)"] = pty_first_paint
        cases["first paint (run_test)"] = run_test_first_paint
    raw = C.interleaved(cases, reps, warmup=1)
    torch_at_paint = [t for _, t in raw.get("first paint (run_test)", [])]
    med = {k: C.median([v if isinstance(v, float) else v[0] for v in vals]) for k, vals in raw.items()}
    torch_s = med["import torch"]
    results = [
        C.Result("startup", "python -c pass", med["python -c pass"], "s"),
        C.Result("startup", 'python -c "import torch"', torch_s, "s"),
    ]
    if ui:
        for what in ("first paint (pty)", "first paint (run_test)"):
            results.append(C.Result("startup", f"regtui {what}", med[what], "s"))
        ratio = med["first paint (pty)"] / torch_s
        target, ok = C.check(ratio, "<", 1.0)
        results.append(C.Result("startup", "first paint (pty) / import torch", ratio, target=target, met=ok,
                                note=f"{SIZE[0]}×{SIZE[1]} pseudo-terminal, default preset, medians of {reps}"))
        any_torch = any(torch_at_paint)
        results.append(C.Result("startup", "torch imported at first paint", float(any_torch), "",
                                "no", not any_torch, note="1 = yes (from the run_test child)"))
    else:
        results.append(C.Result("startup", "first paint", float("nan"), "s", note=f"skipped: the lab is not importable ({why})"))
    results.append(C.Result("startup", 'python -c "import torch, torch._dynamo" / import torch',
                            med["import torch, torch._dynamo"] / torch_s))
    results.append(C.Result("startup", "regtui run moons-overfit, 0 epochs", med["regtui run, 0 epochs"], "s"))
    ratio = med["regtui run, 0 epochs"] / torch_s
    target, ok = C.check(ratio, "<=", 1.15)
    results.append(C.Result("startup", "regtui run moons-overfit, 0 epochs / import torch", ratio, target=target,
                            met=ok, note=f"medians of {reps}"))
    cpu = {k: C.median([v[1] for v in raw[k]]) for k in ("import torch", "regtui run, 0 epochs")}
    ratio = cpu["regtui run, 0 epochs"] / cpu["import torch"]
    target, ok = C.check(ratio, "<=", 1.15)
    results.append(C.Result("startup", "regtui run moons-overfit, 0 epochs / import torch, CPU time", ratio,
                            target=target, met=ok, note=f"user + system of the processes, medians of {reps}; "
                            f"{cpu['regtui run, 0 epochs']:.2f} / {cpu['import torch']:.2f} CPU-s"))
    results.append(C.Result("startup", "regtui --help", med["regtui --help"], "s"))
    results.append(C.Result("startup", "regtui --help / import torch", med["regtui --help"] / torch_s))
    out = subprocess.run([PY, "-c", HELP_CHILD], capture_output=True, text=True, cwd=C.ROOT, check=True).stdout.split()
    torch_in, textual_in = out[0] == "True", out[1] == "True"
    results.append(C.Result("startup", "torch imported by --help", float(torch_in), "", "no", not torch_in,
                            note=f"1 = yes; textual imported by --help: {'yes' if textual_in else 'no'}"))
    return results


if __name__ == "__main__":
    sys.exit(C.script_main("startup", __doc__.splitlines()[0], run))
