"""Screens and dialogs of the lab: help, history, the preset dialogs, the yes/no question."""
