"""Every shipped lesson holds: each bundled preset claims what it demonstrates
(``[[claims]]``), and over 5 seeds (stacked, one run) every claim holds in a
paired t-test at p < 0.05, checked by the code the lab and ``regtui run`` use.

These train each bundled preset whole (epochs as shipped), 5 seeds at once:
seconds each on a laptop, the slowest tests of the suite on a busy 2-core CI.
"""

from __future__ import annotations

import pytest

from regtui.core import presets
from regtui.core.claims import check_all, describe
from regtui.core.overrides import with_overrides
from regtui.core.run import Run

SEEDS = 5
BUNDLED = sorted(p.stem for p in presets.bundled_dir().glob("*.toml"))


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_preset_claims_what_it_demonstrates(name: str) -> None:
    exp = presets.load(name)
    assert exp.claims, f"{name}: no [[claims]]: say what it demonstrates, checkably"
    assert exp.description


@pytest.mark.parametrize("name", BUNDLED)
def test_its_claims_hold_over_five_seeds(name: str) -> None:
    exp = with_overrides(presets.load(name), [f"train.seeds={SEEDS}", "train.device=cpu"])
    run = Run(exp, record=False)
    for _ in run.events():
        pass
    checks = check_all(run.history)
    assert len(checks) == len(exp.claims)
    for check in checks:
        print(describe(check))  # the measured p-values, with -s
        assert check.holds, describe(check)
        assert all(t.n == SEEDS for _, t in check.tests)
