"""The results table that ``regtui run`` prints (rich), one row per variant."""

from __future__ import annotations

from rich.table import Table

from regtui.core.results import RunHistory

STATUS_STYLE = {"finished": "green", "diverged": "bold red", "stopped": "yellow", "running": "cyan"}


def _num(value: float | None, fmt: str = ".4f") -> str:
    return "—" if value is None else format(value, fmt)


def results_table(history: RunHistory) -> Table:
    exp = history.experiment
    table = Table(title=f"{exp.name}: {exp.data.dataset}, n_train={exp.data.n_train}, epochs={history.epoch}")
    for col in ("variant", "regularization", "best val loss", "best epoch", "train loss", "val loss", "val acc", "gap", "‖w‖", "status"):
        table.add_column(col, justify="left" if col in ("variant", "regularization", "status") else "right")
    winner = history.best_variant()
    for cfg, h in zip(exp.variants, history.variants):
        best = h.best
        acc = h.last("val_acc")
        table.add_row(
            h.name, cfg.describe(),
            _num(best.val_loss if best else None), str(best.epoch) if best else "—",
            _num(h.last("train_loss")), _num(h.last("val_loss")),
            "—" if acc is None else f"{acc:.1%}",
            _num(h.last("gap"), "+.4f"), _num(h.last("weight_norm"), ".2f"),
            f"[{STATUS_STYLE.get(h.status, '')}]{h.status}[/]",
            style="bold" if h.name == winner else None,
        )
    return table
