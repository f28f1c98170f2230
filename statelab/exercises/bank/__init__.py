"""The exercises of the tutorial, two or more per notebook from notebook 2 on.

One module per notebook; importing a module registers its exercises (the registry orders them
by notebook, so the order of the imports below does not matter). Each checker raises
:class:`~statelab.exercises.framework.CheckFailed` with one sentence that explains the first
failure, or returns a sentence saying what was verified. Schedules are seeded and the competing
writers act at fixed points between the learner's requests, so every check is deterministic.
"""

from statelab.exercises.bank import (  # noqa: F401 - imported to register their exercises
    consistency,
    etags,
    lost_update,
    real_dapr,
    retry,
    save_read_delete,
    transactions,
)
