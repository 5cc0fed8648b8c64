"""`python -m tfmodels_edge` runs the `tfmodels-edge` command."""

from .cli import main

raise SystemExit(main())
