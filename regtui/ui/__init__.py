"""The Textual lab, laid out by role.

- ``app.py``: the small App and ``create_app`` (the CLI and the tests build it the same way);
  ``keys.py``: every key of the lab; ``export.py``: ``e``'s files; ``regtui.tcss``: the one stylesheet;
  ``session.py``: the run on screen, UI-thread state (the one place that starts a training
  worker; pause, stop, branch, the ghost).
- ``screens/``: whole screens and dialogs: ``lab.py`` (the lab itself: its keys and views),
  help, history, presets, confirm.
- ``widgets/``: what the lab screen is built of (config panel and its fields,
  loss and sweep charts, results table, status bar, verdict, the views).
- ``worker/``: the training thread's code and the messages it posts.
- ``plotting/``: Textual-free helpers that shape curves (downsampling, ticks,
  smoothing, seed bands, ghost curves, colours).

Imports no torch at import time (the training worker imports it).
"""
