"""Which requests a timeline marks as a lost update, with the checker's sentence for each.

The store lane, the writer lanes and the cursor all mark the same writes, so the checker runs
once per history and its answer is kept here, indexed by operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from statelab.analysis.history import History
from statelab.analysis.races import lost_updates

__all__ = ["LostMarks"]


@dataclass(frozen=True)
class LostMarks:
    """Operation index -> sentence, for overwriting writes and for the writes they erased."""

    overwrites: dict[int, str] = field(default_factory=dict)  # outlined in red
    erased: dict[int, str] = field(default_factory=dict)  # struck through in red

    @classmethod
    def of(cls, history: History) -> LostMarks:
        marks = cls()
        for anomaly, sentence in lost_updates(history):
            marks.overwrites[anomaly.write_index] = sentence
            for lost in anomaly.lost_indexes:
                marks.erased.setdefault(lost, sentence)
        return marks
