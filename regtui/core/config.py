"""The experiment: one comparison described as frozen dataclasses.

Everything a run depends on lives here, so a preset reproduces it exactly.
Parsing is strict: an unknown key, a wrong type or an out-of-range value is a
``ConfigError`` naming the source, the key and the problem.  Configs are
changed with ``dataclasses.replace`` (or ``overrides.with_overrides``), never
mutated.  Dicts and TOML tables become these classes in ``schema.py``.

Imports only the standard library: no torch, numpy or UI code.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regtui.core.text import has_controls, visible

DATASETS_2D = ("moons", "circles", "spirals", "xor", "gaussians")
DATASETS_REAL = ("digits", "breast_cancer", "wine")
DATASETS_FILE = ("csv", "idx", "npz")
DATASETS = DATASETS_2D + ("regression",) + DATASETS_REAL + DATASETS_FILE
TASKS = ("auto", "classification", "regression")
ACTIVATIONS = ("relu", "tanh", "gelu", "sigmoid")
OPTIMIZERS = ("sgd", "adam", "adamw")
INITS = ("torch", "glorot_uniform")
ADAM_FORMULAS = ("torch", "keras")
LAYER_SETS = ("all", "hidden")
DEVICES = ("auto", "cpu", "cuda")
RANKINGS = ("end", "best")
"""How variants are ranked (``regtui.core.ranking``): the validation loss where
training ends, or each variant's best epoch (early stopping)."""
ENGINES = ("in-process", "ray")


class ConfigError(ValueError):
    """A user mistake in a preset or override; ``str()`` is one clear line."""

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{_printable(self.source)}: " if self.source else ""
        what = f"{_printable(self.key)}: " if self.key else ""
        return f"{where}{what}{_printable(self.problem)}"

    def with_source(self, source: str) -> "ConfigError":
        return ConfigError(self.key, self.problem, source)


def _printable(text: str) -> str:
    """One line, always: control characters from user input are shown visibly."""
    return visible(text)


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "moons"
    """Which data set: 2-D (moons, circles, spirals, xor, gaussians), regression,
    digits, breast_cancer, wine, or a file: csv, idx (MNIST folder), npz."""
    n_train: int = 100
    """Training samples; small values provoke overfitting.  For a file, 0 = every row
    (the default when a file preset leaves it out)."""
    n_val: int = 500
    """Validation samples.  For a file, 0 = the file's own split, or the rows left over
    (20 % when n_train is 0 too)."""
    noise: float = 0.2
    """Feature noise (standard deviation) of the 2-D data sets."""
    label_noise: float = 0.0
    """Fraction of training labels flipped to another class (classification)."""
    seed: int = 0
    """Seed of the data draw and the train/validation split."""
    standardize: bool = True
    """Standardize features with the training split's mean and population std."""
    n_features: int = 200
    """Input features of the regression problem."""
    path: str = ""
    """csv / idx / npz: the file (a folder for idx); relative to the preset's folder."""
    target: str = ""
    """csv: the target column (default: the last one)."""
    task: str = "auto"
    """csv / npz: classification or regression; auto infers it when unambiguous."""
    features: tuple[str, ...] = ()
    """csv: feature columns (default: every column but the target)."""
    drop_invalid: bool = False
    """csv: drop rows with missing or non-numeric values instead of refusing the file."""


@dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = (128, 64)
    """Hidden layer widths; empty gives a linear / logistic model."""
    activation: str = "relu"
    """Hidden activation: relu, tanh, gelu or sigmoid."""
    init: str = "torch"
    """Initial weights: torch (PyTorch's nn.Linear default, weights and biases
    U(±1/√fan_in)) or glorot_uniform (Keras's Dense default: weights
    U(±√(6/(fan_in+fan_out))), biases zero)."""


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "adam"
    """sgd, adam or adamw (adamw is Adam; decoupled decay comes from each variant's weight_decay)."""
    lr: float = 1e-3
    """Learning rate."""
    momentum: float = 0.0
    """SGD momentum (sgd only)."""
    batch_size: int = 32
    """Mini-batch size; a value >= n_train means full batch."""
    epochs: int = 100
    """Epochs to train; 0 only measures the initial weights."""
    seed: int = 0
    """Seed of the initial weights, the batch order and the dropout masks."""
    seeds: int = 1
    """Repeat every variant over this many seeds: seed, seed+1, …, seed+seeds−1."""
    device: str = "auto"
    """auto (CUDA when present), cpu or cuda."""
    cuda_graph: bool = True
    """On CUDA, replay each full-size batch's training step as one captured CUDA graph
    (the same numbers, one launch instead of dozens); false runs every step eagerly.
    No effect on the CPU (docs/semantics.md, "The step as a CUDA graph")."""
    adam_epsilon: float = 1e-8
    """Adam's ε (adam / adamw only): PyTorch's default 1e-8; Keras's is 1e-7."""
    adam_formula: str = "torch"
    """Where Adam adds ε (adam / adamw only): torch adds it to the bias-corrected
    √v̂ (torch.optim.Adam), keras to the uncorrected √v (keras.optimizers.Adam)."""
    schedule: tuple["LrChange", ...] = ()
    """``[[train.schedule]]``: learning-rate changes, each from the start of its epoch on."""
    rank_by: str = "end"
    """How variants are ranked: end (mean val loss over the last 10 % of epochs) or
    best (each variant's lowest val loss, what early stopping keeps)."""


@dataclass(frozen=True)
class VariantConfig:
    name: str = "baseline"
    """Shown in charts and tables; unique within an experiment."""
    l2: float = 0.0
    """λ of the coupled penalty λ·Σw² added to the loss (Keras l2(λ))."""
    weight_decay: float = 0.0
    """η of decoupled weight decay: w ← w − lr·η·w at every step, applied to the pre-update weights as torch.optim.AdamW does (docs/semantics.md)."""
    dropout: float = 0.0
    """Drop probability p after every hidden activation (inverted dropout)."""
    input_dropout: float = 0.0
    """Drop probability of input features."""
    l2_biases: bool = False
    """Also penalize / decay biases (of the layers the penalty / decay covers)."""
    l2_layers: str | tuple[int, ...] = "all"
    """Which layers the L2 penalty covers: all, hidden (every layer but the output
    layer, as the article's Keras program) or a list of layer indices (0 = the
    first hidden layer, len(model.hidden) = the output layer)."""
    weight_decay_layers: str | tuple[int, ...] = "all"
    """Which layers decoupled decay covers, as l2_layers."""
    schedule: tuple["VariantChange", ...] = ()
    """``[[variants.schedule]]``: changes of l2 / weight_decay / dropout / input_dropout,
    each from the start of its epoch on (in increasing epoch order)."""

    @property
    def is_baseline(self) -> bool:
        """No regularization at any epoch (a schedule that switches one on counts)."""
        knobs = [self.l2, self.weight_decay, self.dropout, self.input_dropout]
        knobs += [v for c in self.schedule for v in c.changes().values()]
        return not any(knobs)

    def describe(self) -> str:
        """Short text such as ``λ=1e-3 drop p=0.5`` (``no regularization`` for a baseline),
        then each schedule entry, e.g. ``; from epoch 100 drop p=0.5``."""
        parts = []
        if self.l2:
            parts.append(f"λ={self.l2:g}" + _layers_text(self.l2_layers))
        if self.weight_decay:
            parts.append(f"decay η={self.weight_decay:g}" + _layers_text(self.weight_decay_layers))
        if self.dropout:
            parts.append(f"drop p={self.dropout:g}")
        if self.input_dropout:
            parts.append(f"input drop p={self.input_dropout:g}")
        text = " ".join(parts) or "no regularization"
        for change in self.schedule:
            text += f"; from epoch {change.epoch} " + _describe_knobs(change.changes())
        return text

    def at_epoch(self, epoch: int) -> "VariantConfig":
        """The variant's knobs in force during ``epoch`` (its schedule applied up to it)."""
        changes: dict[str, float] = {}
        for change in self.schedule:
            if change.epoch <= epoch:
                changes.update(change.changes())
        return dataclasses.replace(self, **changes) if changes else self


SCHEDULE_VARIANT_KEYS = ("l2", "weight_decay", "dropout", "input_dropout")
"""What a ``[[variants.schedule]]`` entry may change (lr is ``[[train.schedule]]``)."""

_KNOB_TEXT = {"l2": "λ={:g}", "weight_decay": "decay η={:g}", "dropout": "drop p={:g}", "input_dropout": "input drop p={:g}"}


def _describe_knobs(values: dict[str, float]) -> str:
    return " ".join(text.format(values[k]) for k, text in _KNOB_TEXT.items() if k in values)


@dataclass(frozen=True)
class VariantChange:
    """One ``[[variants.schedule]]`` entry: from the start of ``epoch`` on (before its
    first batch) the variant trains with these values; a knob left out keeps its value."""

    epoch: int
    """The first epoch trained with the change: 1 … train.epochs."""
    l2: float | None = None
    weight_decay: float | None = None
    dropout: float | None = None
    input_dropout: float | None = None

    def changes(self) -> dict[str, float]:
        """The knobs this entry sets, e.g. ``{"dropout": 0.5}``."""
        return {k: v for k in SCHEDULE_VARIANT_KEYS if (v := getattr(self, k)) is not None}


@dataclass(frozen=True)
class LrChange:
    """One ``[[train.schedule]]`` entry: from the start of ``epoch`` on, every member
    trains with learning rate ``lr`` (the optimizer's state is kept)."""

    epoch: int
    """The first epoch trained with the new lr: 1 … train.epochs."""
    lr: float


def lr_at_epoch(train: TrainConfig, epoch: int) -> float:
    """The learning rate in force during ``epoch`` (``train.schedule`` applied up to it)."""
    lr = train.lr
    for change in train.schedule:
        if change.epoch <= epoch:
            lr = change.lr
    return lr


def _layers_text(layers: str | tuple[int, ...]) -> str:
    if layers == "all":
        return ""
    if layers == "hidden":
        return " (hidden layers)"
    return " (layers " + ",".join(map(str, layers)) + ")"


def covered_layers(layers: str | tuple[int, ...], n_layers: int) -> frozenset[int]:
    """The indices of the layers an ``l2_layers`` / ``weight_decay_layers`` value covers
    in a model of ``n_layers`` layers (``len(model.hidden) + 1``; the last is the output)."""
    if layers == "all":
        return frozenset(range(n_layers))
    if layers == "hidden":
        return frozenset(range(n_layers - 1))
    return frozenset(layers)


@dataclass(frozen=True)
class EngineConfig:
    """Where a sweep's trainings run (``regtui sweep``; the lab's Sweep section)."""

    kind: str = "in-process"
    """in-process (this process) or ray (tasks on a Ray cluster: pip install 'regtui[ray]')."""
    address: str = ""
    """ray: empty starts a local Ray on this machine; auto joins the running cluster
    (RAY_ADDRESS or the last ``ray start``); HOST:PORT (or ray://HOST:PORT) joins that one."""
    shard_size: int = 0
    """ray: at most this many networks (grid points × seeds) per task; 0 splits each
    training evenly over the cluster's CPUs (or GPUs)."""
    cpus_per_task: float = 1.0
    """ray: CPUs each task asks for (and torch threads it uses)."""
    gpus_per_task: float = 1.0
    """ray, with device cuda (or auto on a cluster with GPUs): GPUs each task asks for;
    a fraction lets several tasks share one GPU."""
    retries: int = 3
    """ray: how often a task whose worker died is run again before its points are failed."""


SWEEP_VARIANT_KEYS = ("l2", "weight_decay", "dropout", "input_dropout")


@dataclass(frozen=True)
class SweepAxis:
    """One knob of a sweep: ``variants.NAME.l2`` (or weight_decay, dropout,
    input_dropout) or ``data.n_train``, over a list of values."""

    key: str
    values: tuple[float, ...]

    @property
    def variant(self) -> str | None:
        """The variant a ``variants.NAME.KEY`` knob addresses (NAME may hold dots)."""
        return self.key[len("variants."):].rsplit(".", 1)[0] if self.key.startswith("variants.") else None

    @property
    def field(self) -> str:
        return self.key.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Claim:
    """What a preset demonstrates, checkably, over seeds (``regtui.core.claims``), in one
    of two forms:

    - ``better`` + ``than``: every variant in ``better`` ends with a lower ranking
      statistic than ``than`` (a paired t-test over seeds, p < 0.05);
    - ``overfit``: every variant in it ends with a validation loss over 10 % above
      its own best (the verdict's "overfit"; a paired t-test over seeds).
    """

    better: tuple[str, ...] = ()
    """Variant names that should beat ``than``."""
    than: str = ""
    """The variant they are compared with (usually the baseline)."""
    by: str = ""
    """end or best; empty: the experiment's train.rank_by (``better`` claims only)."""
    overfit: tuple[str, ...] = ()
    """Variant names whose validation loss should climb from its best to the end."""

    def names(self) -> tuple[str, ...]:
        return self.better + ((self.than,) if self.than else ()) + self.overfit

    def text(self) -> str:
        if self.overfit:
            return f"{', '.join(self.overfit)} {'overfit' if len(self.overfit) > 1 else 'overfits'}"
        return f"{', '.join(self.better)} {'beat' if len(self.better) > 1 else 'beats'} {self.than}"

    def applies(self, names: "set[str] | tuple[str, ...]") -> bool:
        """Whether every variant it names is among ``names``."""
        return all(n in names for n in self.names())


def _default_variants() -> tuple[VariantConfig, ...]:
    return (
        VariantConfig("baseline"),
        VariantConfig("L2", l2=1e-3),
        VariantConfig("Dropout", dropout=0.5),
        VariantConfig("L2+Dropout", l2=1e-3, dropout=0.5),
    )


@dataclass(frozen=True)
class Experiment:
    name: str = "untitled"
    """Preset name."""
    description: str = ""
    """One line shown in lists."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    variants: tuple[VariantConfig, ...] = field(default_factory=_default_variants)
    sweep: tuple[SweepAxis, ...] = ()
    """Optional: one or two knobs to sweep (``regtui sweep``, the lab's sweep view)."""
    claims: tuple[Claim, ...] = ()
    """Optional: what the preset demonstrates, as claims checked over seeds; only those
    whose variants all exist are kept."""
    engine: EngineConfig = field(default_factory=EngineConfig)
    """Where a sweep runs: in this process or on a Ray cluster."""
    source_dir: str = field(default="", compare=False, repr=False)
    """The folder of the preset file it came from (relative data paths resolve there);
    not part of the experiment's identity and never saved."""

    def __post_init__(self) -> None:
        names = {v.name for v in self.variants}
        if not all(c.applies(names) for c in self.claims):
            # Variants renamed or removed (a lab edit, a sweep's grid points, a test's own variants):
            # a claim about a variant that is gone no longer applies.  A preset file naming a missing
            # variant is an error where it is read (schema), not silently dropped.
            object.__setattr__(self, "claims", tuple(c for c in self.claims if c.applies(names)))
        validate(self)

    def variant(self, name: str) -> VariantConfig:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)


# --------------------------------------------------------------------------- checks

def expand_home(path: str) -> Path:
    """``~`` / ``~user`` expanded where that names a home folder; otherwise the path as
    written (``~0`` names no user: a file or folder of that name, never an error)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def resolve_data_path(path: str, source_dir: str | os.PathLike[str] | None) -> Path:
    """Where a file data set's ``data.path`` points: ``~`` expanded, and a relative
    path taken from ``source_dir`` (the folder its preset came from) or, without
    one, from the working folder.  The one rule training, saving and recording use."""
    p = expand_home(path)
    return p if p.is_absolute() or not source_dir else Path(source_dir) / p


def absolute_data_path(exp: Experiment) -> Experiment:
    """``exp`` with a file data set's ``data.path`` made absolute (see
    ``resolve_data_path``), so the config reads the same file from any folder:
    what the run history stores."""
    d = exp.data
    if d.dataset not in DATASETS_FILE or not d.path.strip():
        return exp
    path = str(resolve_data_path(d.path, exp.source_dir).absolute())
    return exp if path == d.path else dataclasses.replace(exp, data=dataclasses.replace(d, path=path))


def _check(ok: bool, key: str, problem: str) -> None:
    if not ok:
        raise ConfigError(key, problem)


def _check_p(value: float, key: str) -> None:
    _check(0.0 <= value < 1.0, key, f"must be a probability in [0, 1), got {value!r}")


def validate(exp: Experiment) -> None:
    """Range checks across the whole experiment; raises ``ConfigError``."""
    d, m, t = exp.data, exp.model, exp.train
    _check(not has_controls(exp.name), "name", "a preset name cannot hold control characters")
    _check(d.dataset in DATASETS, "data.dataset", f"unknown data set {d.dataset!r}; choose one of {', '.join(DATASETS)}")
    if d.dataset in DATASETS_FILE:
        _check(d.n_train == 0 or d.n_train >= 2, "data.n_train", f"must be 0 (every row) or at least 2, got {d.n_train}")
        _check(d.n_val >= 0, "data.n_val", f"must be 0 (automatic) or more, got {d.n_val}")
        _check(bool(d.path.strip()), "data.path", f"data set {d.dataset!r} needs path = the file or folder to read")
    else:
        _check(d.n_train >= 2, "data.n_train", f"must be at least 2, got {d.n_train}")
        _check(d.n_val >= 1, "data.n_val", f"must be at least 1, got {d.n_val}")
    _check(d.task in TASKS, "data.task", f"unknown task {d.task!r}; choose one of {', '.join(TASKS)}")
    _check(d.n_train <= 10_000_000, "data.n_train", "is unreasonably large (max 10,000,000)")
    _check(d.n_val <= 10_000_000, "data.n_val", "is unreasonably large (max 10,000,000)")
    _check(0.0 <= d.noise <= 10.0, "data.noise", f"must be in [0, 10], got {d.noise!r}")
    _check(0.0 <= d.label_noise <= 1.0, "data.label_noise", f"must be a fraction in [0, 1], got {d.label_noise!r}")
    _check(1 <= d.n_features <= 100_000, "data.n_features", f"must be in [1, 100000], got {d.n_features}")
    _check(len(m.hidden) <= 16, "model.hidden", "at most 16 hidden layers")
    for i, width in enumerate(m.hidden):
        _check(1 <= width <= 65_536, f"model.hidden[{i}]", f"a layer width must be in [1, 65536], got {width}")
    _check(m.activation in ACTIVATIONS, "model.activation", f"unknown activation {m.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    _check(m.init in INITS, "model.init", f"unknown initialization {m.init!r}; choose one of {', '.join(INITS)}")
    _check(t.optimizer in OPTIMIZERS, "train.optimizer", f"unknown optimizer {t.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    _check(0.0 < t.lr <= 1e6, "train.lr", f"must be positive (and at most 1e6), got {t.lr!r}")
    _check(0.0 <= t.momentum < 1.0, "train.momentum", f"must be in [0, 1), got {t.momentum!r}")
    _check(0.0 < t.adam_epsilon <= 1.0, "train.adam_epsilon", f"must be in (0, 1], got {t.adam_epsilon!r}")
    _check(t.adam_formula in ADAM_FORMULAS, "train.adam_formula",
           f"unknown Adam formula {t.adam_formula!r}; choose one of {', '.join(ADAM_FORMULAS)}")
    _check(1 <= t.batch_size <= 10_000_000, "train.batch_size", f"must be in [1, 10000000], got {t.batch_size}")
    _check(0 <= t.epochs <= 10_000_000, "train.epochs", f"must be in [0, 10000000], got {t.epochs}")
    _check(t.device in DEVICES, "train.device", f"unknown device {t.device!r}; choose one of {', '.join(DEVICES)}")
    _check(t.rank_by in RANKINGS, "train.rank_by", f"unknown ranking {t.rank_by!r}; choose one of {', '.join(RANKINGS)}")
    _check(0 <= t.seed < 2**63, "train.seed", f"must be in [0, 2^63), got {t.seed}")
    _check(0 <= d.seed < 2**63, "data.seed", f"must be in [0, 2^63), got {d.seed}")
    _check(1 <= len(exp.variants) <= 64, "variants", f"need 1 to 64 variants, got {len(exp.variants)}")
    _check(1 <= t.seeds <= 64, "train.seeds", f"must be in [1, 64], got {t.seeds}")
    members = len(exp.variants) * t.seeds
    _check(members <= 256, "train.seeds", f"variants × seeds = {members} networks; at most 256 train at once")
    _validate_sweep(exp)
    _validate_claims(exp)
    _validate_engine(exp.engine)
    seen: set[str] = set()
    for v in exp.variants:
        key = f"variants.{v.name}"
        _check(bool(v.name.strip()), "variants.name", "a variant name cannot be empty")
        _check(len(v.name) <= 40, f"{key}.name", "a variant name has at most 40 characters")
        _check(v.name.isprintable(), f"{key}.name", "a variant name cannot hold control characters")
        _check(v.name not in seen, f"{key}.name", f"duplicate variant name {v.name!r}")
        seen.add(v.name)
        _check(0.0 <= v.l2 <= 1e6, f"{key}.l2", f"λ must be in [0, 1e6], got {v.l2!r}")
        _check(0.0 <= v.weight_decay <= 1e6, f"{key}.weight_decay", f"must be in [0, 1e6], got {v.weight_decay!r}")
        _check_p(v.dropout, f"{key}.dropout")
        _check_p(v.input_dropout, f"{key}.input_dropout")
        _check_layers(v.l2_layers, f"{key}.l2_layers", len(m.hidden) + 1)
        _check_layers(v.weight_decay_layers, f"{key}.weight_decay_layers", len(m.hidden) + 1)
        _validate_schedule(v.schedule, f"{key}.schedule", t.epochs)
        for i, change in enumerate(v.schedule):
            where = f"{key}.schedule[{i}]"
            _check(bool(change.changes()), where, "changes nothing; give one or more of " + ", ".join(SCHEDULE_VARIANT_KEYS))
            for knob, value in change.changes().items():
                if knob in ("dropout", "input_dropout"):
                    _check_p(value, f"{where}.{knob}")
                else:
                    _check(0.0 <= value <= 1e6, f"{where}.{knob}", f"must be in [0, 1e6], got {value!r}")
    _validate_schedule(t.schedule, "train.schedule", t.epochs)
    for i, lr_change in enumerate(t.schedule):
        _check(0.0 < lr_change.lr <= 1e6, f"train.schedule[{i}].lr", f"must be positive (and at most 1e6), got {lr_change.lr!r}")


def _check_layers(layers: str | tuple[int, ...], key: str, n_layers: int) -> None:
    if isinstance(layers, str):
        _check(layers in LAYER_SETS, key, f"unknown layer set {layers!r}; choose all, hidden or a list of layer indices")
        return
    _check(len(layers) > 0, key, "an empty list covers no layer; list layer indices, or all or hidden")
    for i, index in enumerate(layers):
        _check(0 <= index < n_layers, f"{key}[{i}]",
               f"no layer {index}: the model has {n_layers} layers, 0 to {n_layers - 1} (the last is the output layer)")
    _check(len(set(layers)) == len(layers), key, "a layer index appears twice")


def _validate_schedule(entries: tuple[Any, ...], key: str, epochs: int) -> None:
    """Epochs within 1 … train.epochs, strictly increasing."""
    previous = 0
    for i, change in enumerate(entries):
        where = f"{key}[{i}].epoch"
        _check(1 <= change.epoch <= epochs, where,
               f"must be in [1, {epochs}] (train.epochs), got {change.epoch}" if epochs else
               "no epoch to change: train.epochs is 0")
        _check(change.epoch > previous, where,
               f"entries must be in increasing epoch order, one per epoch (epoch {change.epoch} after {previous})")
        previous = change.epoch


def _validate_claims(exp: Experiment) -> None:
    """The claims' own shape.  Their variant names are checked where a file is read
    (``schema``); an experiment whose variants changed drops the claims that no
    longer apply (``Experiment.__post_init__``)."""
    _check(len(exp.claims) <= 16, "claims", f"at most 16 claims, got {len(exp.claims)}")
    for i, claim in enumerate(exp.claims):
        key = f"claims[{i}]"
        if claim.overfit:
            _check(not (claim.better or claim.than or claim.by), key,
                   "an overfit claim stands alone: no better, than or by in the same [[claims]] table")
            _check(len(set(claim.overfit)) == len(claim.overfit), f"{key}.overfit", "a variant appears twice")
            continue
        _check(bool(claim.better), f"{key}.better", "needs at least one variant name (or use overfit = [...])")
        _check(bool(claim.than), f"{key}.than", "needs the variant they beat")
        _check(len(set(claim.better)) == len(claim.better), f"{key}.better", "a variant appears twice")
        _check(claim.than not in claim.better, f"{key}.than", f"{claim.than!r} cannot beat itself")
        _check(claim.by in RANKINGS + ("",), f"{key}.by",
               f"unknown ranking {claim.by!r}; choose one of {', '.join(RANKINGS)} (or leave it out)")


def _validate_sweep(exp: Experiment) -> None:
    axes = exp.sweep
    _check(len(axes) <= 2, "sweep", f"at most two knobs, got {len(axes)}")
    names = {v.name for v in exp.variants}
    keys = [a.key for a in axes]
    _check(len(set(keys)) == len(keys), "sweep", "a knob appears twice")
    points = 1
    for axis in axes:
        key = f"sweep.{axis.key}"
        parts = ["variants", axis.variant, axis.field] if axis.variant else axis.key.split(".")
        if axis.key == "data.n_train":
            for value in axis.values:
                _check(float(value).is_integer() and value >= 2, key, f"n_train values must be integers >= 2, got {value!r}")
        else:
            ok = len(parts) == 3 and parts[0] == "variants" and parts[2] in SWEEP_VARIANT_KEYS
            _check(ok, key, "sweep knobs are data.n_train or variants.NAME.KEY with KEY one of " + ", ".join(SWEEP_VARIANT_KEYS))
            _check(parts[1] in names, key, f"no variant named {parts[1]!r}; variants are: {', '.join(sorted(names))}")
            for value in axis.values:
                if parts[2] in ("dropout", "input_dropout"):
                    _check_p(value, key)
                else:
                    _check(0.0 <= value <= 1e6, key, f"values must be in [0, 1e6], got {value!r}")
        _check(1 <= len(axis.values) <= 64, key, f"needs 1 to 64 values, got {len(axis.values)}")
        _check(len(set(axis.values)) == len(axis.values), key, "a value appears twice")
        points *= len(axis.values)
    swept = {a.variant for a in axes if a.variant}
    _check(len(swept) <= 1, "sweep", "every variants.* knob of a sweep must address the same variant")
    n_train_points = next((len(a.values) for a in axes if a.key == "data.n_train"), 1)
    members = points // n_train_points * exp.train.seeds
    _check(members <= 256, "sweep", f"grid points × seeds = {members} networks; at most 256 train at once")


def _validate_engine(e: EngineConfig) -> None:
    _check(e.kind in ENGINES, "engine.kind", f"unknown engine {e.kind!r}; choose one of {', '.join(ENGINES)}")
    address = e.address.strip()
    _check(address == e.address and address.isprintable() and " " not in address and len(address) <= 200,
           "engine.address", f"must be empty, auto, HOST:PORT or ray://HOST:PORT, got {e.address!r}")
    if address and address != "auto":
        host, sep, port = address.removeprefix("ray://").rpartition(":")
        _check(bool(sep and host and port.isdigit() and 0 < int(port) < 65536), "engine.address",
               f"must be empty, auto, HOST:PORT or ray://HOST:PORT, got {e.address!r}")
    _check(0 <= e.shard_size <= 256, "engine.shard_size", f"must be 0 (automatic) to 256 networks, got {e.shard_size}")
    _check(0.0 < e.cpus_per_task <= 1024, "engine.cpus_per_task", f"must be in (0, 1024], got {e.cpus_per_task!r}")
    _check(0.0 < e.gpus_per_task <= 64 and (e.gpus_per_task <= 1 or float(e.gpus_per_task).is_integer()),
           "engine.gpus_per_task", f"must be a fraction in (0, 1] or a whole number up to 64, got {e.gpus_per_task!r}")
    _check(0 <= e.retries <= 100, "engine.retries", f"must be in [0, 100], got {e.retries}")
