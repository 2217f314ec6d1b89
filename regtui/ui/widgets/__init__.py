"""The widgets the lab screen is built of: config panel, charts, results table, status bar, verdict, views."""
