"""Experiments as data: strict parsing, exact round trips, ``--set`` overrides, presets."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regtui.core import presets
from regtui.core.config import (
    ACTIVATIONS, ADAM_FORMULAS, DATASETS, DATASETS_FILE, INITS, LAYER_SETS, OPTIMIZERS, RANKINGS, TASKS, Claim,
    ConfigError, DataConfig, Experiment, ModelConfig, SweepAxis, TrainConfig, VariantConfig,
)
from regtui.core.overrides import with_overrides
from regtui.core.schema import experiment_from_dict, experiment_to_dict

DATA = Path(__file__).resolve().parent.parent / "data" / "config"
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
                          whitelist_characters=" ")
"""Characters str.isprintable() accepts: what a preset's name may hold."""
BUNDLED = sorted(presets.bundled_dir().glob("*.toml"))

# file in tests/data/config/bad -> (the key the error names, a piece of the problem)
BAD = {
    "bad-toml": ("", "not valid TOML"),
    "unknown-top": ("colour", "unknown key"),
    "unknown-data": ("data.size", "unknown key"),
    "unknown-model": ("model.depth", "unknown key"),
    "unknown-train": ("train.lr_decay", "unknown key"),
    "unknown-variant": ("variants.L2.lambda", "unknown key"),
    "wrong-type-int": ("train.epochs", "must be an integer"),
    "wrong-type-float-for-int": ("train.batch_size", "must be an integer"),
    "wrong-type-number": ("train.lr", "must be a number"),
    "wrong-type-bool-number": ("train.lr", "must be a number"),
    "wrong-type-bool": ("data.standardize", "true or false"),
    "wrong-type-hidden": ("model.hidden", "list of integers"),
    "wrong-type-hidden-item": ("model.hidden[1]", "must be an integer"),
    "wrong-type-string": ("data.dataset", "must be a string"),
    "wrong-type-name": ("name", "must be a string"),
    "wrong-type-variant-name": ("variants[0].name", "must be a string"),
    "section-not-table": ("data", "must be a table"),
    "variants-not-array": ("variants", "array of tables"),
    "variants-empty": ("variants", "at least one"),
    "negative-lambda": ("variants.L2.l2", "-0.1"),
    "negative-weight-decay": ("variants.WD.weight_decay", "-1.0"),
    "p-one": ("variants.D.dropout", "probability in [0, 1)"),
    "p-above-one": ("variants.D.dropout", "probability in [0, 1)"),
    "p-negative": ("variants.D.input_dropout", "probability in [0, 1)"),
    "hidden-zero": ("model.hidden[1]", "width"),
    "n-train-one": ("data.n_train", "at least 2"),
    "duplicate-names": ("variants.A.name", "duplicate"),
    "empty-name": ("variants.name", "empty"),
    "nan-lr": ("train.lr", "finite"),
    "inf-lambda": ("variants.L2.l2", "finite"),
    "zero-lr": ("train.lr", "positive"),
    "unknown-dataset": ("data.dataset", "unknown data set"),
    "unknown-optimizer": ("train.optimizer", "unknown optimizer"),
    "unknown-activation": ("model.activation", "unknown activation"),
    "momentum-one": ("train.momentum", "[0, 1)"),
    "label-noise-above-one": ("data.label_noise", "[0, 1]"),
    "negative-epochs": ("train.epochs", "-1"),
    "seeds-zero": ("train.seeds", "0"),
    "unknown-init": ("model.init", "unknown initialization"),
    "adam-epsilon-zero": ("train.adam_epsilon", "(0, 1]"),
    "unknown-adam-formula": ("train.adam_formula", "unknown Adam formula"),
    "unknown-layer-set": ("variants.L2.l2_layers", "unknown layer set"),
    "layer-index-out-of-range": ("variants.L2.l2_layers[1]", "no layer 2: the model has 2 layers"),
    "wrong-type-layers": ("variants.L2.l2_layers", "list of layer indices"),
    "wrong-type-layer-item": ("variants.WD.weight_decay_layers[1]", "must be an integer"),
    "empty-layers": ("variants.L2.l2_layers", "covers no layer"),
    "duplicate-layers": ("variants.WD.weight_decay_layers", "appears twice"),
    "unknown-rank-by": ("train.rank_by", "unknown ranking 'last'; choose one of end, best"),
    "claims-unknown-variant": ("claims[0].better", "no variant named 'L3'; variants are: baseline, L2"),
    "claims-unknown-key": ("claims[0].margin", "unknown key 'margin'; expected better, than, by, overfit"),
    "claims-against-itself": ("claims[0].than", "cannot beat itself"),
    "claims-better-not-a-list": ("claims[0].better", "must be a list of variant names"),
    "claims-unknown-ranking": ("claims[0].by", "unknown ranking 'median'"),
    "claims-overfit-with-than": ("claims[0]", "an overfit claim stands alone"),
}


def test_every_bad_fixture_is_listed():
    assert {p.stem for p in (DATA / "bad").glob("*.toml")} == set(BAD)


@pytest.mark.parametrize("stem", sorted(BAD))
def test_malformed_preset_error_names_file_key_and_problem(stem):
    key, problem = BAD[stem]
    path = DATA / "bad" / f"{stem}.toml"
    with pytest.raises(ConfigError) as info:
        presets.load_file(path)
    exc = info.value
    assert exc.source == str(path)
    assert exc.key == key
    assert problem in exc.problem
    text = str(exc)
    assert text.startswith(f"{path}: ")
    assert (f": {key}: " in text) if key else True
    assert "\n" not in text  # one clear line


@pytest.mark.parametrize("stem", sorted(BAD))
def test_parse_toml_names_the_given_source(stem):
    with pytest.raises(ConfigError) as info:
        presets.parse_toml((DATA / "bad" / f"{stem}.toml").read_text(encoding="utf-8"), "my-source")
    assert str(info.value).startswith("my-source: ")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        presets.load_file(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(info.value)


def test_good_fixtures_load(tiny_experiment, tiny_preset_file):
    assert presets.load_file(DATA / "good" / "tiny.toml") == tiny_experiment()
    assert presets.load_file(tiny_preset_file) == tiny_experiment()
    assert presets.load_file(DATA / "good" / "minimal.toml") == Experiment(name="minimal")
    e = presets.load_file(DATA / "good" / "every-key.toml")
    assert e.data == DataConfig("regression", 20, 30, 0.5, 0.1, 7, False, 12)
    assert e.model == ModelConfig((), "tanh", "glorot_uniform")
    assert e.train.lr == 1.0 and isinstance(e.train.lr, float)
    assert e.train.seeds == 2 and e.train.momentum == 0.9 and e.train.rank_by == "best"
    assert (e.train.adam_epsilon, e.train.adam_formula) == (1e-7, "keras")
    assert e.claims == (Claim(("λ=3 (biases too)",), "variant2", "end"),)
    assert e.variants == (
        VariantConfig("λ=3 (biases too)", l2=3.0, weight_decay=0.5, input_dropout=0.25, l2_biases=True,
                      l2_layers=(0,), weight_decay_layers="hidden"),
        VariantConfig("variant2"),
    )


def test_defaults_are_documented_values():
    e = Experiment()
    assert [v.name for v in e.variants] == ["baseline", "L2", "Dropout", "L2+Dropout"]
    assert e.variants[0].is_baseline and not e.variants[1].is_baseline
    assert VariantConfig("x", l2=1e-3, dropout=0.5).describe() == "λ=0.001 drop p=0.5"
    assert VariantConfig("x").describe() == "no regularization"
    assert VariantConfig("x", l2=1e-3, l2_layers="hidden").describe() == "λ=0.001 (hidden layers)"
    assert VariantConfig("x", weight_decay=0.1, weight_decay_layers=(0, 2)).describe() == "decay η=0.1 (layers 0,2)"
    e = Experiment()  # presets written before per-layer keys meant every layer, and still do
    assert all(v.l2_layers == v.weight_decay_layers == "all" for v in e.variants)
    assert (e.model.init, e.train.adam_epsilon, e.train.adam_formula) == ("torch", 1e-8, "torch")


def test_layer_keys_take_a_name_or_indices_from_toml_and_set(tiny_experiment):
    e = with_overrides(tiny_experiment(model={"hidden": (8, 4)}),
                               ["variants.L2.l2_layers=hidden", "variants.L2.weight_decay_layers=[2, 0]",
                                "model.init=glorot_uniform", "train.adam_formula=keras", "train.adam_epsilon=1e-7"])
    assert e.variant("L2").l2_layers == "hidden" and e.variant("L2").weight_decay_layers == (2, 0)
    assert presets.parse_toml(presets.to_toml(e), "written") == e
    assert 'l2_layers = "hidden"' in presets.to_toml(e)
    with pytest.raises(ConfigError) as info:  # a model change that leaves an index pointing nowhere
        with_overrides(e, ["model.hidden=[8]"])
    assert info.value.key == "variants.L2.weight_decay_layers[0]" and "no layer 2" in info.value.problem


def test_configs_are_frozen(tiny_experiment):
    e = tiny_experiment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.train.lr = 1.0  # type: ignore[misc]
    with pytest.raises(ConfigError):
        dataclasses.replace(e, variants=e.variants + (VariantConfig("L2"),))


# --------------------------------------------------------------------------- presets

@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_shipped_preset_loads_and_round_trips(path):
    e = presets.load_file(path)
    assert e.name == path.stem
    assert e.description
    assert presets.load(path.stem, user="/nonexistent-user-folder") == e
    assert experiment_from_dict(experiment_to_dict(e)) == e
    assert experiment_from_dict(experiment_to_dict(e, full=False)) == e
    assert presets.parse_toml(presets.to_toml(e), "x") == e
    assert experiment_from_dict(json.loads(json.dumps(experiment_to_dict(e)))) == e


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_shipped_preset_trains_one_epoch(path):
    from regtui.core.run_types import EpochEnd
    from regtui.core.training import Training

    e = presets.load_file(path)
    e = dataclasses.replace(e, train=dataclasses.replace(e.train, epochs=1, device="cpu"))
    ends = [ev for ev in Training(e).events() if isinstance(ev, EpochEnd)]
    assert ends[-1].statuses == ("finished",) * len(ends[-1].statuses)
    assert all(m is not None and math.isfinite(m.val_loss) for m in ends[-1].metrics)


def test_bundled_presets_are_listed_without_errors(tmp_path):
    entries = presets.list_presets(tmp_path)
    assert [e.name for e in entries if e.bundled] == [p.stem for p in BUNDLED]
    assert all(e.error is None for e in entries)
    assert presets.DEFAULT_PRESET in {e.name for e in entries}


def test_to_toml_writes_every_key():
    text = presets.to_toml(Experiment(name="x"))
    for f in dataclasses.fields(TrainConfig) + dataclasses.fields(DataConfig) + dataclasses.fields(ModelConfig):
        assert f"\n{f.name} = " in text


# --------------------------------------------------------------------------- round trips (hypothesis)

finite = dict(allow_nan=False, allow_infinity=False)
_NOT_PRINTABLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")  # str.isprintable() is false in these (but " ")


@st.composite
def _names(draw: st.DrawFn) -> str:
    """Printable, not blank, at most 40 characters: built directly, never filtered
    (a filter this picky trips Hypothesis's filter_too_much health check at random)."""
    rest = draw(st.text(st.characters(blacklist_categories=_NOT_PRINTABLE, whitelist_characters=" "), max_size=39))
    at = draw(st.integers(0, len(rest)))
    return rest[:at] + draw(st.characters(blacklist_categories=_NOT_PRINTABLE)) + rest[at:]


names = _names()
probability = st.floats(0.0, 1.0, exclude_max=True, **finite)


@st.composite
def experiments(draw, datasets=DATASETS) -> Experiment:
    dataset = draw(st.sampled_from(datasets))
    is_file = dataset in DATASETS_FILE
    data = DataConfig(
        dataset=dataset,
        n_train=draw(st.sampled_from([0, 2]) | st.integers(2, 10_000_000)) if is_file else draw(st.integers(2, 10_000_000)),
        n_val=draw(st.integers(0 if is_file else 1, 10_000_000)),
        noise=draw(st.floats(0.0, 10.0, **finite)),
        label_noise=draw(st.floats(0.0, 1.0, **finite)),
        seed=draw(st.integers(0, 2**63 - 1)),
        standardize=draw(st.booleans()),
        n_features=draw(st.integers(1, 100_000)),
        path=draw(names) if is_file else "",
        target=draw(st.text(max_size=10)) if is_file else "",
        task=draw(st.sampled_from(TASKS)),
        features=tuple(draw(st.lists(st.text(max_size=8), max_size=3))) if is_file else (),
        drop_invalid=draw(st.booleans()),
    )
    model = ModelConfig(hidden=tuple(draw(st.lists(st.integers(1, 65_536), max_size=16))),
                        activation=draw(st.sampled_from(ACTIVATIONS)), init=draw(st.sampled_from(INITS)))
    n_layers = len(model.hidden) + 1
    layers = st.sampled_from(LAYER_SETS) | st.lists(st.integers(0, n_layers - 1), min_size=1, unique=True).map(tuple)
    n_variants = draw(st.integers(1, 4))
    seeds = draw(st.integers(1, 64 // n_variants))
    train = TrainConfig(
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        lr=draw(st.floats(0.0, 1e6, exclude_min=True, **finite)),
        momentum=draw(probability),
        batch_size=draw(st.integers(1, 10_000_000)),
        epochs=draw(st.integers(0, 10_000_000)),
        seed=draw(st.integers(0, 2**63 - 1)),
        seeds=seeds,
        device=draw(st.sampled_from(["auto", "cpu", "cuda"])),
        adam_epsilon=draw(st.floats(0.0, 1.0, exclude_min=True, **finite)),
        adam_formula=draw(st.sampled_from(ADAM_FORMULAS)),
        rank_by=draw(st.sampled_from(RANKINGS)),
    )
    variant_names = draw(st.lists(names, min_size=n_variants, max_size=n_variants, unique=True))
    variants = tuple(
        VariantConfig(
            name=n,
            l2=draw(st.floats(0.0, 1e6, **finite)),
            weight_decay=draw(st.floats(0.0, 1e6, **finite)),
            dropout=draw(probability),
            input_dropout=draw(probability),
            l2_biases=draw(st.booleans()),
            l2_layers=draw(layers),
            weight_decay_layers=draw(layers),
        )
        for n in variant_names
    )
    sweep: tuple[SweepAxis, ...] = ()
    sweepable = [n for n in variant_names if "." not in n]  # see test_variant_names_with_dots_or_equals_...
    if sweepable and draw(st.booleans()):
        field_name = draw(st.sampled_from(["l2", "weight_decay", "dropout", "input_dropout"]))
        values = draw(st.lists(probability, min_size=1, max_size=4, unique=True))
        sweep = (SweepAxis(f"variants.{sweepable[0]}.{field_name}", tuple(values)),)
        if draw(st.booleans()):
            sweep += (SweepAxis("data.n_train", tuple(float(v) for v in draw(st.lists(st.integers(2, 1000), min_size=1, max_size=3, unique=True)))),)
    claims: tuple[Claim, ...] = ()
    if len(variant_names) > 1 and draw(st.booleans()):
        than = draw(st.sampled_from(variant_names))
        better = draw(st.lists(st.sampled_from([n for n in variant_names if n != than]), min_size=1, unique=True))
        claims = (Claim(tuple(better), than, draw(st.sampled_from(("",) + RANKINGS))),)
    return Experiment(name=draw(st.text(PRINTABLE, max_size=30)), description=draw(st.text(max_size=60)),
                      data=data, model=model, train=train, variants=variants, sweep=sweep, claims=claims)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_full_round_trips_are_exact(e):
    assert experiment_from_dict(experiment_to_dict(e)) == e
    assert presets.parse_toml(presets.to_toml(e), "generated") == e
    assert experiment_from_dict(json.loads(json.dumps(experiment_to_dict(e), allow_nan=False))) == e


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(datasets=tuple(d for d in DATASETS if d not in DATASETS_FILE)))
def test_sparse_round_trips_are_exact(e):
    """``full=False`` (what ``--set`` goes through) drops defaults and must get them back."""
    assert experiment_from_dict(experiment_to_dict(e, full=False)) == e
    assert with_overrides(e, []) == e


def test_sparse_round_trip_of_a_file_data_set_keeps_its_sizes():
    e = Experiment(data=DataConfig(dataset="csv", path="x.csv", n_train=100, n_val=500))
    assert experiment_from_dict(experiment_to_dict(e, full=False)) == e
    assert with_overrides(e, ["train.epochs=5"]).data.n_train == 100


# --------------------------------------------------------------------------- --set overrides

def test_overrides_set_values_with_toml_syntax(tiny_experiment):
    e = tiny_experiment()
    got = with_overrides(e, ["train.epochs=5", "model.hidden=[32]", "variants.L2.l2=0.01",
                                     "data.dataset=circles", "train.lr = 1", "variants.Dropout.dropout=0.25",
                                     'description="two words"', "name=bare"])
    assert got.train.epochs == 5
    assert got.model.hidden == (32,)
    assert got.variant("L2").l2 == 0.01
    assert got.data.dataset == "circles"  # a bare word is a string
    assert got.train.lr == 1.0 and isinstance(got.train.lr, float)
    assert got.variant("Dropout").dropout == 0.25
    assert got.description == "two words" and got.name == "bare"
    assert got.variant("baseline") == e.variant("baseline")
    assert with_overrides(e, ["train.epochs=5", "train.epochs=7"]).train.epochs == 7  # last wins
    assert e == tiny_experiment()  # the original is untouched


def test_override_of_an_empty_hidden_list_gives_a_linear_model(tiny_experiment):
    assert with_overrides(tiny_experiment(), ["model.hidden=[]"]).model.hidden == ()


@pytest.mark.parametrize("text,key,problem", [
    ("variants.Nope.l2=1", "variants.Nope.l2", "variants are: baseline, L2, Dropout"),
    ("train.epochs", "train.epochs", "KEY=VALUE"),
    ("train.epochs=abc", "train.epochs", "must be an integer"),
    ("train.nope=1", "train.nope", "unknown key"),
    ("data.dataset=mnist", "data.dataset", "unknown data set"),
    ("a.b.c=1", "a.b.c", "too many dots"),
    ("variants.L2=1", "variants.L2", "variants.NAME.KEY"),
    ("variants.L2.lambda=1", "variants.L2.lambda", "unknown key"),
    ("train.lr=-1", "train.lr", "positive"),
    ("variants.L2.dropout=1", "variants.L2.dropout", "probability"),
    ("name.x=1", "name.x", "not a table"),
    ("train..lr=1", "train..lr", "dotted names"),
    ("=5", "", "dotted names"),
])
def test_bad_overrides_are_config_errors_naming_the_key(tiny_experiment, text, key, problem):
    with pytest.raises(ConfigError) as info:
        with_overrides(tiny_experiment(), [text])
    exc = info.value
    assert exc.source == "--set"
    assert exc.key == key
    assert problem in exc.problem
    assert "\n" not in str(exc)


@pytest.mark.parametrize("preset,override,variant,field,value", [
    ("d2l-weight-decay", "variants.λ=3.l2=1", "λ=3", "l2", 1.0),
    ("digits-dropout-sweep", "variants.p=0.5.dropout=0.3", "p=0.5", "dropout", 0.3),
])
def test_variant_names_with_dots_or_equals_can_be_overridden(preset, override, variant, field, value):
    e = with_overrides(presets.load(preset, user="/nonexistent-user-folder"), [override])
    assert getattr(e.variant(variant), field) == value


def test_a_variant_with_a_dot_in_its_name_can_be_swept():
    e = Experiment(variants=(VariantConfig("p=0.5", dropout=0.5),),
                   sweep=(SweepAxis("variants.p=0.5.dropout", (0.1, 0.2)),))
    assert e.sweep[0].variant == "p=0.5"


def test_variant_names_cannot_hold_control_characters() -> None:
    from regtui.core.config import ConfigError, Experiment, VariantConfig

    with pytest.raises(ConfigError) as info:
        Experiment(variants=(VariantConfig("a\x1b[31mred"),))
    assert "control characters" in str(info.value) and "\x1b" not in str(info.value)
