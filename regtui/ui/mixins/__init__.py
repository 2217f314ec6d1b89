"""The App's action mixins (presets, history, insight views, sweeps).

Temporary: issue 13 moves their logic into the lab screen, the run session and the widgets.
"""
