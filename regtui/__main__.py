"""``python -m regtui``: the same as the ``regtui`` command."""

from regtui.cli import main

raise SystemExit(main())
