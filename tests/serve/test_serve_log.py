"""A served lab's warnings and standard error go to a capped log, never to the
protocol channel (stdout) nor to textual-serve's in-memory copy of stderr.

Each case runs in a child process, because ``output_to_log`` rewires the
process's file descriptor 2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""\
    import logging, os, sys, warnings
    from pathlib import Path
    from regtui.commands import serve_log

    serve_log.MAX_BYTES = 20_000
    with serve_log.output_to_log(Path(sys.argv[1])) as path:
        for i in range(int(sys.argv[2])):                    # a chatty C library
            os.write(2, b"%05d " % i + b"x" * 94 + b"\\n")
        warnings.warn("a library warning")
        logging.getLogger("somelib").warning("a library log record")
        logging.getLogger("somelib").info("an info record stays out")
        os.write(2, b"a C-level line\\n")
        print("a Python line on stderr", file=sys.stderr)
        os.write(2, b"the last words, without a newline")
    print("back on stderr", file=sys.stderr)
    print(path)
""")


def _child(folder: Path, flood_lines: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(folder), str(flood_lines)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_warnings_log_records_and_stderr_go_to_the_log(tmp_path):
    done = _child(tmp_path, flood_lines=0)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "back on stderr\n"  # nothing leaked while diverted; fd 2 given back after
    log = Path(done.stdout.strip())
    assert log.parent == tmp_path and log.name.startswith("lab-") and log.suffix == ".log"
    text = log.read_text()
    for line in ("a library warning", "a library log record", "a C-level line",
                 "a Python line on stderr", "the last words, without a newline"):
        assert line in text
    assert "an info record stays out" not in text


def test_a_long_session_keeps_the_log_capped(tmp_path):
    done = _child(tmp_path, flood_lines=5_000)  # 500 kB through fd 2
    assert done.returncode == 0, done.stderr
    assert done.stderr == "back on stderr\n"
    log = Path(done.stdout.strip())
    parts = sorted(tmp_path.iterdir())
    assert parts == [log, log.with_name(log.name + ".1")]  # the log and one rotated part
    assert sum(p.stat().st_size for p in parts) <= 2 * 20_000 + 200
    text = log.read_text()
    assert "a C-level line" in text and "the last words" in text  # the newest lines are kept
    assert "04999 " in log.with_name(log.name + ".1").read_text() + text


def test_only_the_newest_session_logs_are_kept(tmp_path):
    from regtui.commands.serve_log import KEEP_SESSIONS

    old = time.time() - 3600
    for i in range(KEEP_SESSIONS + 5):
        stale = tmp_path / f"lab-20200101-0000{i:02d}-{i}.log"
        stale.write_text("old\n")
        (tmp_path / (stale.name + ".1")).write_text("older\n")
        os.utime(stale, (old + i, old + i))
    done = _child(tmp_path, flood_lines=0)
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in tmp_path.glob("lab-*.log"))
    assert len(kept) == KEEP_SESSIONS
    assert Path(done.stdout.strip()).name in kept
    assert "lab-20200101-000000-0.log" not in kept  # the oldest went first, with its rotated part
    assert not (tmp_path / "lab-20200101-000000-0.log.1").exists()
    assert len(list(tmp_path.glob("lab-*.log.1"))) == KEEP_SESSIONS - 1
