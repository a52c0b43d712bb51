"""``python -m toolkit``: see :mod:`toolkit.cli`."""

from toolkit.cli import main

raise SystemExit(main())
