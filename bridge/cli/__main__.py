"""`python -m bridge.cli`: the same as the `relance` command."""

import sys

from bridge.cli import main

sys.exit(main())
