"""``python -m pytest_stexcel_privacy``: the same as the ``stexcel-privacy`` command."""

import sys

from .cli import main

sys.exit(main())
