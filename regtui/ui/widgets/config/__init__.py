"""The config panel (``panel.ConfigPanel``) and its parts: inputs, data-file fields, variant and sweep editors."""
