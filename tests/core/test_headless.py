"""The core is headless and the CLI's help is light: checked in fresh interpreters."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import regtui.core

UI_MODULES = ("textual", "rich", "plotext", "textual_plotext")
CORE_MODULES = sorted(f"regtui.core.{m.name}" for m in pkgutil.iter_modules(regtui.core.__path__))


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


def test_core_imports_no_ui_library():
    loaded = _loaded_after("\n".join(f"import {m}" for m in CORE_MODULES))
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


def test_generated_data_sets_do_not_import_sklearn():
    """Generated sets are numpy only (sklearn costs ~1.2–2.5 s to import); the
    bundled real ones load through sklearn, which shows the check sees it."""
    generated = _loaded_after(
        "from regtui.core.config import DataConfig, DATASETS_2D\n"
        "from regtui.core.data import make_dataset\n"
        "for name in (*DATASETS_2D, 'regression'):\n"
        "    make_dataset(DataConfig(dataset=name, n_train=20, n_val=10, n_features=3))\n"
    )
    assert "numpy" in generated and "sklearn" not in generated
    real = _loaded_after(
        "from regtui.core.config import DataConfig\n"
        "from regtui.core.data import make_dataset\n"
        "make_dataset(DataConfig(dataset='wine', n_train=20, n_val=10))\n"
    )
    assert "sklearn" in real


def test_training_never_imports_torch_dynamo():
    """``torch.optim.Optimizer`` imports ``torch._dynamo`` (as slow as ``import torch``)
    in its ``__init__`` and ``step``; regtui's optimizers step without it.  The
    last line shows the check sees the import where it happens."""
    code = (
        "import sys\n"
        "from regtui.core.config import DataConfig, Experiment, TrainConfig, VariantConfig, ModelConfig\n"
        "from regtui.core.training import Training\n"
        "variants = (VariantConfig('baseline'), VariantConfig('L2', l2=1e-3), VariantConfig('decay', weight_decay=0.1))\n"
        "for train in (TrainConfig(optimizer='adam', epochs=2), TrainConfig(optimizer='sgd', momentum=0.9, epochs=2),\n"
        "              TrainConfig(optimizer='adam', adam_formula='keras', epochs=2)):\n"
        "    exp = Experiment(data=DataConfig(dataset='moons', n_train=40, n_val=20), model=ModelConfig(hidden=(8,)),\n"
        "                     train=train, variants=variants)\n"
        "    for _ in Training(exp).events():\n"
        "        pass\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'none')\n"
        "import torch\n"
        "torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'none')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["none", "dynamo"]
