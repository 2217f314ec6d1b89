"""The Textual lab: ``create_app`` in ``regtui.ui.app``; widgets in their own modules.

Imports no torch at import time (the training worker imports it).
"""
