"""Unsaved config edits survive ``q``: kept as the user preset ``unsaved-edits``.

``q`` must quit within a second, so it asks nothing of a valid config: when the config panel
holds a valid experiment that differs from the one it was loaded or last saved
with, ``keep`` writes it (atomically, through the core's ``save_preset``) as
the user preset ``UNSAVED``; the next start's ``notice`` says it is there
(``ctrl+o`` opens it like any preset).  An invalid config cannot be a preset:
``q`` then asks whether to quit and lose the edits (``LabScreen.action_quit``).
"""

from __future__ import annotations

from pathlib import Path

from regtui.core.config import ConfigError, Experiment
from regtui.core.presets import save_preset, user_preset_exists, user_preset_path

UNSAVED = "unsaved-edits"


def keep(experiment: Experiment, presets_dir: str | None) -> Path | None:
    """Write ``experiment`` as the ``UNSAVED`` user preset; None if it cannot be written."""
    try:
        return save_preset(experiment, UNSAVED, presets_dir, overwrite=True)
    except ConfigError:
        return None


def notice(presets_dir: str | None) -> str | None:
    """What the lab says at start while a kept config waits (None: nothing kept)."""
    if not user_preset_exists(UNSAVED, presets_dir):
        return None
    return (f"your unsaved config from last time is kept as the preset {UNSAVED!r} "
            f"({user_preset_path(UNSAVED, presets_dir)}): ctrl+o opens it")
