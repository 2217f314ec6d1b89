"""A regtui process's start: the cyclic garbage collector held off while it imports,
and what start-up made frozen once it is over.  The one home of "freeze the
collector after start-up", for the command line and the lab alike.

Importing torch leaves ~170,000 long-lived objects (modules, functions,
classes); every full collection walks all of them again (~0.09 CPU-s here,
a 320–370 ms pause once the nets exist), and a start pays three (two while
torch imports, one while regtui's own modules and the nets are made) — a
third of what ``regtui run`` adds to ``import torch``.  Almost nothing made
while starting is garbage (a ``gc.collect()`` after a run's start finds
~7,400 unreachable objects of ~265,000), so:

* ``hold_collector()`` (``regtui.cli.main`` when it runs as the process, i.e.
  without an ``argv``) disables the collector; reference counting still frees
  everything that is not a cycle.
* ``started()`` (a command, when its imports are done and it turns to the
  long work: training, the lab's event loop) moves every object alive into
  the permanent generation (``gc.freeze()``: full collections never walk them
  again, also not during training) and re-enables the collector.  Idempotent;
  a no-op when the collector was not held, so ``main([...])`` called in
  process (the tests) leaves the caller's collector alone.
* ``loaded()`` (the lab's training worker, once torch is imported and the
  data and nets are made: in the training process forked for a run, or in
  the lab's own process when it trains in a thread, ``regtui.ui.worker``)
  freezes what is alive then, once per process: the lab's process started
  before torch was imported, so ``started()`` froze none of it.

Standard library only.
"""

from __future__ import annotations

import gc

_held = False
_loaded = False


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


def loaded() -> None:
    """Torch and a run's data are loaded (later than the start): keep them out of
    full collections.  Once per process; later runs' objects are collected as usual."""
    global _loaded
    if not _loaded:
        gc.freeze()
        _loaded = True
