"""The headless engine: config, data, models, training, presets, results.

Plain Python + torch + numpy.  Never imports textual, rich or plotext (a test
proves it), and ``config``/``presets`` import no torch, so ``--help`` is fast.
"""
