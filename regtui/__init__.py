"""regtui: a terminal lab comparing L2 regularization and Dropout, live.

``regtui.core`` is the headless engine (config, data, models, training,
presets); ``regtui.ui`` is the Textual app; ``regtui.cli`` the command line.
"""

__version__ = "0.1.0"
