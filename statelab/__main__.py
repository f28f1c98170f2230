"""``python -m statelab run`` is the same as ``statelab run``."""

import sys

from .cli import main

sys.exit(main())
