"""A regtui process's start: the cyclic garbage collector held off while it imports.

Importing torch leaves ~170,000 long-lived objects (modules, functions,
classes); every full collection walks all of them again (~0.09 CPU-s here),
and a start pays three (two while torch imports, one while regtui's own
modules and the nets are made) — a third of what ``regtui run`` adds to
``import torch``.  Almost nothing made while starting is garbage (a
``gc.collect()`` after a run's start finds ~7,400 unreachable objects of
~265,000), so:

* ``hold_collector()`` (``regtui.cli.main`` when it runs as the process, i.e.
  without an ``argv``) disables the collector; reference counting still frees
  everything that is not a cycle.
* ``started()`` (a command, when its imports are done and it turns to the
  long work: training, the lab's event loop) moves every object alive into
  the permanent generation (``gc.freeze()``: full collections never walk them
  again, also not during training) and re-enables the collector.  Idempotent;
  a no-op when the collector was not held, so ``main([...])`` called in
  process (the tests) leaves the caller's collector alone.

Standard library only.
"""

from __future__ import annotations

import gc

_held = False


def hold_collector() -> None:
    """Disable the cyclic collector until ``started()``."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def started() -> None:
    """The start is over: freeze what start-up made and collect cycles again."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
