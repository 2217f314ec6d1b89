"""Exactness: any valid experiment survives save → load unchanged, and saving is stable.

Experiments are generated within the ranges ``config.validate`` accepts,
built directly (never filtered, so Hypothesis's ``filter_too_much`` health
check cannot fire whatever the seed):
tiny (subnormal) and huge floats at the edges, unicode names and
descriptions, an empty hidden list, up to 64 variants, repeated seeds and
sweeps of one or two knobs.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.core import presets
from regtui.core.config import (
    ACTIVATIONS,
    Claim,
    DATASETS,
    DATASETS_FILE,
    DEVICES,
    OPTIMIZERS,
    RANKINGS,
    SWEEP_VARIANT_KEYS,
    TASKS,
    DataConfig,
    Experiment,
    ModelConfig,
    SweepAxis,
    TrainConfig,
    VariantConfig,
)

PRINTABLE_NOT_SPACE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
PRINTABLE = st.characters(blacklist_categories=PRINTABLE_NOT_SPACE, whitelist_characters=" ")
"""Characters str.isprintable() accepts: what a preset's name may hold."""
NOT_SPACE_CATEGORIES = ("Cc", "Cs", "Zs", "Zl", "Zp")
"""Without these, no character is whitespace (str.isspace is true only in them)."""


@st.composite
def non_blank(draw: st.DrawFn, alphabet: st.SearchStrategy[str], visible: st.SearchStrategy[str],
              max_size: int) -> str:
    """Any text of ``alphabet`` holding at least one ``visible`` (non-space) character,
    built directly rather than filtered, so generation never has to throw inputs away."""
    rest = draw(st.text(alphabet, max_size=max_size - 1))
    at = draw(st.integers(0, len(rest)))
    return rest[:at] + draw(visible) + rest[at:]


def number(lo: float, hi: float, *, exclude_min: bool = False, exclude_max: bool = False) -> st.SearchStrategy[float]:
    """Any float in the range, with its edges and the tiniest values weighted in."""
    edges = [x for x in (lo, hi, 5e-324, 1e-300, 2.2250738585072014e-308, 1e-7, 0.1, 1 / 3)
             if (lo < x or (x == lo and not exclude_min)) and (x < hi or (x == hi and not exclude_max))]
    return st.one_of(
        st.floats(lo, hi, allow_nan=False, allow_infinity=False, exclude_min=exclude_min, exclude_max=exclude_max),
        st.sampled_from(edges),
    )


probability = number(0.0, 1.0, exclude_max=True)
seed = st.integers(0, 2**63 - 1)

@st.composite
def data_configs(draw: st.DrawFn) -> DataConfig:
    dataset = draw(st.sampled_from(DATASETS))
    from_file = dataset in DATASETS_FILE
    return DataConfig(
        dataset=dataset,
        n_train=draw(st.sampled_from([0, 2]) | st.integers(2, 10_000_000) if from_file else st.integers(2, 10_000_000)),
        n_val=draw(st.integers(0 if from_file else 1, 10_000_000)),
        noise=draw(number(0.0, 10.0)),
        label_noise=draw(number(0.0, 1.0)),
        seed=draw(seed),
        standardize=draw(st.booleans()),
        n_features=draw(st.integers(1, 100_000)),
        path=draw(non_blank(st.characters(), st.characters(blacklist_categories=NOT_SPACE_CATEGORIES), 40)
                  if from_file else st.text(max_size=20)),
        target=draw(st.text(max_size=20)),
        task=draw(st.sampled_from(TASKS)),
        features=tuple(draw(st.lists(st.text(max_size=20), max_size=8))),
        drop_invalid=draw(st.booleans()),
    )


model_configs = st.builds(
    ModelConfig,
    hidden=st.lists(st.integers(1, 65_536), max_size=16).map(tuple),
    activation=st.sampled_from(ACTIVATIONS),
)
variant_names = non_blank(PRINTABLE, st.characters(blacklist_categories=PRINTABLE_NOT_SPACE), 40)
"""A variant name: printable, not blank, at most 40 characters."""
variant_configs = st.builds(
    VariantConfig,
    name=variant_names,
    l2=number(0.0, 1e6),
    weight_decay=number(0.0, 1e6),
    dropout=probability,
    input_dropout=probability,
    l2_biases=st.booleans(),
)


def train_configs(seeds: int) -> st.SearchStrategy[TrainConfig]:
    return st.builds(
        TrainConfig,
        optimizer=st.sampled_from(OPTIMIZERS),
        lr=number(0.0, 1e6, exclude_min=True),
        momentum=probability,
        batch_size=st.integers(1, 10_000_000),  # the validated range
        epochs=st.integers(0, 10_000_000),
        seed=seed,
        seeds=st.just(seeds),
        device=st.sampled_from(DEVICES),
        rank_by=st.sampled_from(RANKINGS),
    )


@st.composite
def sweeps(draw: st.DrawFn, variants: list[VariantConfig], seeds: int) -> tuple[SweepAxis, ...]:
    """Zero to two knobs within validate's limits (one swept variant, grid × seeds <= 256)."""
    addressable = [v.name for v in variants if "." not in v.name]
    axes: list[SweepAxis] = []
    budget = 256 // seeds
    if draw(st.booleans()):
        n_train = dict.fromkeys(draw(st.lists(st.integers(2, 10_000_000), min_size=1, max_size=8)))
        axes.append(SweepAxis("data.n_train", tuple(float(n) for n in n_train)))
    if addressable:
        name = draw(st.sampled_from(addressable))
        keys = draw(st.lists(st.sampled_from(SWEEP_VARIANT_KEYS), max_size=2 - len(axes), unique=True))
        for key in keys:
            values = probability if "dropout" in key else number(0.0, 1e6)
            count = min(8, budget)
            picked = list(dict.fromkeys(draw(st.lists(values, min_size=1, max_size=count))))  # unique, unfiltered
            budget //= len(picked)
            axes.append(SweepAxis(f"variants.{name}.{key}", tuple(picked)))
    return tuple(draw(st.permutations(axes)))


@st.composite
def claims(draw: st.DrawFn, variants: list[VariantConfig]) -> tuple[Claim, ...]:
    """Zero to three claims naming the experiment's own variants."""
    names = [v.name for v in variants]
    if len(names) < 2:
        return ()
    out = []
    for _ in range(draw(st.integers(0, 3))):
        than = draw(st.sampled_from(names))
        better = draw(st.lists(st.sampled_from([n for n in names if n != than]), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()):
            out.append(Claim(tuple(better), than, draw(st.sampled_from(("",) + RANKINGS))))
        else:
            out.append(Claim(overfit=tuple(draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)))))
    return tuple(out)


@st.composite
def experiments(draw: st.DrawFn) -> Experiment:
    unique: dict[str, VariantConfig] = {}
    for v in draw(st.lists(variant_configs, min_size=1, max_size=64)):
        unique.setdefault(v.name, v)  # unique names (the first of each), without filtering
    variants = list(unique.values())
    seeds = draw(st.integers(1, min(64, 256 // len(variants))))
    return Experiment(
        name=draw(st.text(PRINTABLE, max_size=80)),  # a preset name cannot hold control characters
        description=draw(st.text(max_size=300)),
        data=draw(data_configs()),
        model=draw(model_configs),
        train=draw(train_configs(seeds)),
        variants=tuple(variants),
        sweep=draw(sweeps(variants, seeds)),
        claims=draw(claims(variants)),
    )


@settings(max_examples=150, deadline=None)
@given(experiments())
def test_toml_text_round_trips_exactly(exp: Experiment) -> None:
    text = presets.to_toml(exp)
    again = presets.parse_toml(text, "generated")
    assert again == exp
    assert presets.to_toml(again) == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exp=experiments())
def test_any_valid_experiment_survives_save_then_load(exp: Experiment) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # As if opened from this folder, so a relative data path stays as written (moving is tested apart).
        exp = replace(exp, source_dir=str(Path(folder).absolute()))
        path = presets.save_preset(exp, "generated", folder)
        loaded = presets.load("generated", folder)
        assert loaded == replace(exp, name="generated")
        first = path.read_bytes()
        presets.save_preset(loaded, "generated", folder, overwrite=True)
        assert path.read_bytes() == first
        assert sorted(p.name for p in Path(folder).iterdir()) == ["generated.toml"]  # no temporary files left


def test_strategy_reaches_the_edges() -> None:
    """The generator covers what the property claims (an empty hidden list, 64 variants, edge floats)."""
    example = Experiment(
        name="édge ✓", description="ünïcødé — \"quoted\" \\ back\tslash\nnew line \x00\x7f",
        model=ModelConfig(hidden=()),
        train=TrainConfig(lr=5e-324, momentum=0.9999999999999999, batch_size=10_000_000, seeds=4),
        data=DataConfig(noise=10.0, label_noise=1.0, seed=2**63 - 1),
        variants=tuple(VariantConfig(f"v{i} λ", l2=1e6 if i % 2 else 5e-324, dropout=0.9999999999999999)
                       for i in range(64)),
        sweep=(SweepAxis("variants.v1 λ.dropout", (0.0, 0.5, 0.9999999999999999)), SweepAxis("data.n_train", (2.0, 40.0))),
    )
    text = presets.to_toml(example)
    assert presets.parse_toml(text, "edge") == example
    assert "hidden = []" in text
