"""The article's Keras program, run by Keras itself, against regtui with the Keras options.

Keras 3 on its torch backend builds the article's network (Dense 128 relu
l2(1e-3) → Dense 64 relu l2(1e-3) → Dense 10 softmax, Adam, sparse
categorical cross-entropy), starts from regtui's initial weights
(``regtui run --set train.epochs=0 --save-models``) and trains full batch on
``regtui data``'s arrays.  regtui, with ``model.init = "glorot_uniform"``,
``train.adam_formula = "keras"``, ``train.adam_epsilon = 1e-7`` and
``l2_layers = "hidden"``, must give the same numbers to float32 noise.

The right quantities (docs/semantics.md): Keras's ``loss`` is the objective
before the step (data loss plus penalty), regtui's ``objective`` in full
batch; Keras's ``val_loss`` is the validation loss after the epoch *plus the
penalty*, and its cross-entropy from probabilities clips them to
[1e-7, 1 − 1e-7], which regtui's cross-entropy from logits does not.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from regtui.cli import main
from regtui.core import presets
from regtui.core.config import VariantConfig
from regtui.core.run_types import EpochEnd
from regtui.core.training import Training

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # keras + numpy 2

EPOCHS = 20
LAMBDA = 1e-3
KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): Adam's default ε and the probability clip


@pytest.fixture(scope="module")
def keras(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Keras 3 on the torch backend, its config folder kept out of the real home."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "torch")
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))
        module = pytest.importorskip("keras", reason="keras is not installed (the test extra installs it)")
        if module.backend.backend() != "torch":  # pragma: no cover - keras imported earlier with another backend
            pytest.skip(f"keras runs on {module.backend.backend()}, not torch, in this process")
        yield module


def _article_program(tmp_path: Path) -> Path:
    """The bundled article preset's data and widths, as the article's Keras program trains them."""
    article = presets.load("article")
    exp = dataclasses.replace(
        article,
        model=dataclasses.replace(article.model, init="glorot_uniform"),
        train=dataclasses.replace(article.train, optimizer="adam", lr=1e-3, batch_size=article.data.n_train,
                                  epochs=EPOCHS, seeds=1, device="cpu",
                                  adam_formula="keras", adam_epsilon=KERAS_EPSILON),
        variants=(VariantConfig("baseline"), VariantConfig("L2", l2=LAMBDA, l2_layers="hidden")),
        sweep=(),
    )
    assert exp.model.hidden == (128, 64) and exp.model.activation == "relu"
    path = tmp_path / "article-keras.toml"
    path.write_text(presets.to_toml(exp), encoding="utf-8")
    return path


def _keras_model(keras: Any, l2: float | None, state: dict[str, torch.Tensor], n_features: int) -> Any:
    reg = (lambda: keras.regularizers.L2(l2)) if l2 else (lambda: None)
    model = keras.Sequential([
        keras.Input((n_features,)),
        keras.layers.Dense(128, activation="relu", kernel_regularizer=reg()),
        keras.layers.Dense(64, activation="relu", kernel_regularizer=reg()),
        keras.layers.Dense(10, activation="softmax"),
    ])
    weights = []
    for index in (0, 2, 4):  # nn.Sequential layout: Linear, act, Linear, act, Linear; Keras kernels are [in, out]
        weights += [state[f"{index}.weight"].T.numpy(), state[f"{index}.bias"].numpy()]
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),  # Keras's defaults: ε = 1e-7
                  loss=keras.losses.SparseCategoricalCrossentropy())
    return model


def _clipped_cross_entropy(state: dict[str, torch.Tensor], x: np.ndarray, y: np.ndarray) -> float:
    """Keras's cross-entropy from softmax probabilities, clipped to [ε, 1 − ε], on regtui's weights."""
    h = torch.from_numpy(x)
    for index in (0, 2, 4):
        h = h @ state[f"{index}.weight"].T + state[f"{index}.bias"]
        if index < 4:
            h = torch.relu(h)
    p = torch.softmax(h, 1)
    p = torch.clip(p / p.sum(1, keepdim=True), KERAS_EPSILON, 1 - KERAS_EPSILON)
    return float(torch.nn.functional.nll_loss(torch.log(p), torch.from_numpy(y)))


def test_regtui_with_the_keras_options_reproduces_keras(keras, tmp_path):
    preset = _article_program(tmp_path)
    data, init = tmp_path / "article.npz", tmp_path / "initial"
    assert main(["data", str(preset), "--out", str(data)]) == 0
    assert main(["run", str(preset), "--set", "train.epochs=0", "--save-models", str(init),
                 "--no-history", "--quiet"]) == 0
    with np.load(data, allow_pickle=False) as npz:
        x_train, y_train, x_val, y_val = (npz[k] for k in ("X_train", "y_train", "X_val", "y_val"))

    training = Training(presets.load_file(preset))
    ends, states = [], []
    for event in training.events():
        if isinstance(event, EpochEnd):
            ends.append(event)
            states.append({v: training.state_dict(v) for v in ("baseline", "L2")})
    assert np.array_equal(training.x_train.numpy(), x_train)  # the data file holds what regtui trained on

    for k, (name, l2) in enumerate((("baseline", None), ("L2", LAMBDA))):
        start = torch.load(init / f"{name}.pt", weights_only=True)
        assert all(torch.equal(start[key], states[0][name][key]) for key in start)
        assert all(float(start[f"{i}.bias"].abs().max()) == 0.0 for i in (0, 2, 4))  # Glorot: zero biases
        model = _keras_model(keras, l2, start, x_train.shape[1])
        per_epoch: list[list[np.ndarray]] = []
        saver = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: per_epoch.append(model.get_weights()))
        fit = model.fit(x_train, y_train, batch_size=len(x_train), epochs=EPOCHS, shuffle=False,
                        validation_data=(x_val, y_val), verbose=0, callbacks=[saver])
        metrics = [end.metrics[k] for end in ends]
        for epoch in range(1, EPOCHS + 1):
            m, state, kw = metrics[epoch], states[epoch][name], per_epoch[epoch - 1]
            for j, index in enumerate((0, 2, 4)):
                np.testing.assert_allclose(state[f"{index}.weight"].T.numpy(), kw[2 * j], atol=1e-6, rtol=1e-5,
                                           err_msg=f"{name} epoch {epoch} layer {index} kernel")
                np.testing.assert_allclose(state[f"{index}.bias"].numpy(), kw[2 * j + 1], atol=1e-6, rtol=1e-5,
                                           err_msg=f"{name} epoch {epoch} layer {index} bias")
            # Keras's loss: data loss + penalty before the epoch's one step = regtui's objective
            assert m.objective == pytest.approx(fit.history["loss"][epoch - 1], rel=1e-5, abs=1e-6), (name, epoch)
            # Keras's val_loss: clipped cross-entropy after the epoch + penalty
            keras_style = _clipped_cross_entropy(state, x_val, y_val) + m.penalty
            assert keras_style == pytest.approx(fit.history["val_loss"][epoch - 1], rel=1e-5, abs=1e-6), (name, epoch)
        if l2 is None:
            assert metrics[-1].penalty == 0.0
        else:  # the penalty covers the two hidden kernels only, as the article's l2(1e-3)
            final = states[-1][name]
            hidden = sum(float((final[f"{i}.weight"].double() ** 2).sum()) for i in (0, 2))
            assert metrics[-1].penalty == pytest.approx(LAMBDA * hidden, rel=1e-5)


def test_pytorchs_adam_formula_does_not_reproduce_keras(tmp_path):
    """The options are what makes the match: PyTorch's Adam formula, same ε, parts from Keras."""
    preset = _article_program(tmp_path)
    exp = presets.load_file(preset)
    keras_run, torch_run = Training(exp), Training(dataclasses.replace(
        exp, train=dataclasses.replace(exp.train, adam_formula="torch")))
    for run in (keras_run, torch_run):
        for _ in run.events():
            pass
    diff = (keras_run.state_dict("L2")["0.weight"] - torch_run.state_dict("L2")["0.weight"]).abs().max()
    assert diff > 1e-5  # 10× the tolerance the Keras comparison holds to
