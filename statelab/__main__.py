"""``python -m statelab run`` is the same as ``statelab run``."""

import sys

from statelab.cli import main

sys.exit(main())
