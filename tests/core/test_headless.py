"""The core is headless and the CLI's help is light: checked in fresh interpreters.

The checks that need torch share one interpreter (``steps``): it runs in
steps, refusing in each the imports that step must not make, and its tests
stay on one pytest-xdist worker, so torch is imported once for all three."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import regtui.core
from tests.conftest import TINY_TOML

pytestmark = pytest.mark.xdist_group("headless")

UI_MODULES = ("textual", "rich", "plotext", "textual_plotext")
CORE_MODULES = sorted(f"regtui.core.{m.name}" for m in pkgutil.iter_modules(regtui.core.__path__))

STEPS = r'''
import json, sys

class Refuse:
    """Lists, and refuses, every import of what a step must not import: a refused
    import costs nothing, where importing sklearn or torch._dynamo costs as much
    as torch."""
    watched, asked = (), []

    def find_spec(self, name, path=None, target=None):
        if any(name == w or name.startswith(w + ".") for w in self.watched):
            self.asked.append(name)
            raise ImportError(f"{name} is refused in this step")
        return None

refuse = Refuse()
sys.meta_path.insert(0, refuse)
report = {}

def step(name, watched, code):
    refuse.watched, refuse.asked = watched, []
    seen = {}
    try:
        exec(code, {"seen": seen, "PRESET": sys.argv[2]})
        error = None
    except ImportError as exc:
        error = str(exc)
    report[name] = {"asked": refuse.asked, "error": error, "seen": seen, "modules": sorted(sys.modules),
                    "loaded": sorted({m.split(".")[0] for m in sys.modules})}

GENERATED = """
from regtui.core.config import DataConfig, DATASETS_2D
from regtui.core.data import make_dataset
for name in (*DATASETS_2D, 'regression'):
    make_dataset(DataConfig(dataset=name, n_train=20, n_val=10, n_features=3))
"""
REAL = """
from regtui.core.config import DataConfig
from regtui.core.data import make_dataset
make_dataset(DataConfig(dataset='wine', n_train=20, n_val=10))
"""
TRAINING = """
from regtui.core.config import DataConfig, Experiment, TrainConfig, VariantConfig, ModelConfig
from regtui.core.training import Training
variants = (VariantConfig('baseline'), VariantConfig('L2', l2=1e-3), VariantConfig('decay', weight_decay=0.1))
for train in (TrainConfig(optimizer='adam', epochs=2), TrainConfig(optimizer='sgd', momentum=0.9, epochs=2),
              TrainConfig(optimizer='adam', adam_formula='keras', epochs=2)):
    exp = Experiment(data=DataConfig(dataset='moons', n_train=40, n_val=20), model=ModelConfig(hidden=(8,)),
                     train=train, variants=variants)
    for _ in Training(exp).events():
        pass
"""
REGTUI_RUN = """
import gc, sys
from regtui.core import training
build, steps = training.Training.__init__, training.Training.events

def init(self, *a, **k):
    seen["built with the collector"] = gc.isenabled()
    build(self, *a, **k)

def events(self, *a, **k):
    seen["trained with the collector"], seen["frozen"] = gc.isenabled(), gc.get_freeze_count()
    return steps(self, *a, **k)

training.Training.__init__, training.Training.events = init, events
from regtui.cli import main
sys.argv = ["regtui", "run", PRESET, "--quiet", "--no-history"]
seen["exit"] = main()
"""
ADAM = """
import torch
torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
"""
step("generated", ("sklearn",), GENERATED)
step("real", ("sklearn",), REAL)
step("training", ("torch._dynamo",), "".join(f"import {m}\n" for m in json.loads(sys.argv[1])) + TRAINING)
step("torch.optim.Adam", ("torch._dynamo",), ADAM)
step("regtui run --quiet", (), REGTUI_RUN)
print(json.dumps(report))
'''


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One fresh interpreter, in steps, each with what it imported and what it asked
    for of its refused modules: the generated data sets (sklearn refused), a
    bundled real one (sklearn refused: it asks), every core module imported and
    nets trained with each optimizer (torch._dynamo refused), ``torch.optim.Adam``
    (it asks), then ``regtui run --quiet`` on a tiny preset as the process's own
    ``main()``."""
    preset = tmp_path_factory.mktemp("headless") / "tiny.toml"
    preset.write_text(TINY_TOML, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", STEPS, json.dumps(CORE_MODULES), str(preset)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for result in report.values():
        result["loaded"] = set(result["loaded"])
    return report


def _loaded_after(code: str) -> set[str]:
    """Top-level module names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_core_modules_are_the_expected_ones():
    assert {"regtui.core.config", "regtui.core.presets", "regtui.core.data", "regtui.core.model",
            "regtui.core.training", "regtui.core.results"} <= set(CORE_MODULES)


def test_core_imports_no_ui_library(steps):
    loaded = steps["training"]["loaded"]  # every core module imported (and data drawn, nets trained)
    assert steps["training"]["error"] is None, steps["training"]["error"]
    assert set(CORE_MODULES) <= set(steps["training"]["modules"])
    assert "torch" in loaded  # the import really happened
    assert not loaded & set(UI_MODULES), loaded & set(UI_MODULES)


def test_config_and_presets_import_neither_torch_nor_numpy():
    loaded = _loaded_after("import regtui.core.config, regtui.core.presets")
    assert not loaded & {"torch", "numpy", "sklearn", *UI_MODULES}


def test_help_does_not_import_torch():
    code = (
        "from regtui.cli import main\n"
        "for argv in (['--help'], ['run', '--help'], ['presets', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "    else:\n"
        "        raise AssertionError('no SystemExit')\n"
    )
    loaded = _loaded_after(code)
    assert "regtui" in loaded
    assert not loaded & {"torch", "numpy", "sklearn", "textual"}


def test_python_m_regtui_help_does_not_import_torch():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "regtui", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "usage: regtui" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "regtui.cli" in imported
    assert not {m for m in imported if m.split(".")[0] in ("torch", "textual", "numpy")}


def test_generated_data_sets_do_not_import_sklearn(steps):
    """Generated sets are numpy only (sklearn costs ~1.2–2.5 s to import); the
    bundled real ones load through sklearn, which shows the check sees it."""
    generated = steps["generated"]
    assert generated["error"] is None, generated["error"]
    assert "numpy" in generated["loaded"] and "sklearn" not in generated["loaded"]
    assert generated["asked"] == []  # not even tried: a refused import is listed
    assert steps["real"]["asked"][:1] == ["sklearn"]


def test_training_never_imports_torch_dynamo(steps):
    """``torch.optim.Optimizer`` imports ``torch._dynamo`` (as slow as ``import torch``)
    in its ``__init__`` and ``step``; regtui's optimizers step without it.  The
    last step shows the check sees the import where it happens."""
    training = steps["training"]
    assert training["error"] is None, training["error"]
    assert "torch._dynamo" not in training["modules"] and training["asked"] == []
    assert steps["torch.optim.Adam"]["asked"][:1] == ["torch._dynamo"]


def test_a_run_process_holds_its_collector_while_it_starts_and_collects_while_it_trains(steps):
    """``regtui.startup``: ``main()`` as the process's own holds the collector
    off while the nets are built, then turns it on with what start-up made frozen.
    A ``--quiet`` run with nothing to say imports no rich."""
    run = steps["regtui run --quiet"]
    assert run["error"] is None and run["seen"]["exit"] == 0, run
    assert not run["seen"]["built with the collector"] and run["seen"]["trained with the collector"]
    assert run["seen"]["frozen"] > 50_000  # torch's modules and functions, never walked again
    assert "rich" not in run["loaded"]
