"""Imported by the lab's fork server when a benchmark asks (``_app.probe_children``):
from then on every ``Training.events()`` in a training process the server forks is
timed by ``_app.TrainingProbe`` and its record written to ``$BENCH_PROBE_DIR``
(``_app.write_record``), which the benchmark reads when the lab's run has ended."""

import os

if os.environ.get("BENCH_PROBE_DIR"):
    from _app import TrainingProbe, write_record

    TrainingProbe(on_done=write_record).__enter__()  # for the server's life: it forks only benchmark runs
