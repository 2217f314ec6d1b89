"""Sub-command implementations of the command line (``regtui.cli`` routes to them)."""
