"""The package's shape: import contracts, and every module importable first thing.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): ``core``
imports nothing from ``ui``/``commands``/``cli`` nor a UI library, ``ui`` does
not import the command line, and there is no import cycle at any depth.  They
are checked here with import-linter's API (``lint-imports`` from the repository
root checks the same).

A module that only imports when something else was imported first (a cycle
through a half-initialized module, the bug ``python -c "import
regtui.core.schema"`` had) is caught by importing every module first thing in
a process of its own.  Starting ~75 interpreters would cost a minute of CPU,
mostly re-importing torch, so one interpreter imports the third-party libraries
once — and no ``regtui`` module — and forks a child per module: each child starts
with no ``regtui`` module loaded, exactly as a fresh ``python -c "import M"``
would see the package.  The parent freezes what it preloaded (``gc.freeze``) and
compiles the package into a temporary bytecode cache the children read, so a
child pays for its module's import only.  Without ``os.fork`` each module gets
its own interpreter.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import regtui

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"regtui.__main__"}
"""``python -m regtui`` runs the CLI when imported; the CLI tests run it."""
PRELOAD = ("numpy", "torch", "platformdirs", "rich", "textual.app", "plotext", "textual_plotext")
"""What regtui's modules import at their top, loaded once before the children fork."""

CHECKER = textwrap.dedent("""
    import importlib, json, os, subprocess, sys, traceback
    package, modules, preload = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    assert not [m for m in sys.modules if m == package or m.startswith(package + ".")], "preloaded the package"
    if hasattr(os, "fork"):  # what the children share: nothing of the package is imported by it
        import compileall, gc, importlib.util, tempfile
        gc.freeze()  # the preloaded objects: no child's collection walks (or copies) them
        gc.disable()
        cache = tempfile.TemporaryDirectory()
        sys.pycache_prefix, sys.dont_write_bytecode = cache.name, False  # each module compiled once, not per child
        for folder in importlib.util.find_spec(package).submodule_search_locations:
            compileall.compile_dir(folder, quiet=2)
    failures = {}
    for module in modules:
        if hasattr(os, "fork"):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                try:
                    importlib.import_module(module)
                    code = 0
                except BaseException:
                    os.write(write, traceback.format_exc().encode())
                    code = 1
                os._exit(code)
            os.close(write)
            with os.fdopen(read, "rb") as pipe:
                error = pipe.read().decode()
            _, status = os.waitpid(pid, 0)
            if status:
                failures[module] = error or f"exit status {status}"
        else:
            proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
            if proc.returncode:
                failures[module] = proc.stderr
    print(json.dumps(failures))
""")


def modules_of(package: str, path: list[str]) -> list[str]:
    """Every module and subpackage of ``package`` found on ``path``."""
    return sorted({package} | {m.name for m in pkgutil.walk_packages(path, package + ".")} - SKIP)


def first_import_failures(package: str, modules: list[str], sys_path: str,
                          preload: tuple[str, ...] = PRELOAD) -> dict[str, str]:
    """Module -> traceback, for each module that fails to import first thing."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [sys_path, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, "-c", CHECKER, package, json.dumps(modules), json.dumps(preload)],
        capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    import importlinter.api  # noqa: F401  (importing it configures import-linter)
    from importlinter.application.use_cases import lint_imports

    ok = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert ok, report
    assert "3 kept, 0 broken" in report, report


def test_every_module_imports_first_thing_in_its_own_process() -> None:
    modules = modules_of("regtui", list(regtui.__path__))
    assert {"regtui.core.schema", "regtui.core.run_types", "regtui.cli", "regtui.ui.app"} <= set(modules)
    failures = first_import_failures("regtui", modules, str(Path(regtui.__path__[0]).parent))
    assert not failures, "\n\n".join(f"{m}:\n{tb}" for m, tb in failures.items())


def test_the_first_import_check_catches_a_cycle(tmp_path: Path) -> None:
    """The check above can fail: a re-export at the bottom of a module, as
    ``config.py`` once had, breaks when the other module is imported first."""
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "config.py").write_text("class Experiment: ...\n\nfrom cyclic.schema import load  # re-export\n")
    (pkg / "schema.py").write_text("from cyclic.config import Experiment\n\ndef load(): return Experiment()\n")
    failures = first_import_failures("cyclic", modules_of("cyclic", [str(pkg)]), str(tmp_path), preload=())
    assert set(failures) == {"cyclic.schema"}
    assert "partially initialized" in failures["cyclic.schema"]
