"""Testing helpers for gridmap (in the manner of ``geopandas.testing``): the accuracy suite.

Nothing in the library imports this package; tests and benchmarks do.

* :mod:`gridmap.testing.scoring`: what a resolver's answer is worth against the answer a
  text supports (:class:`Expected`, :class:`Got`, :func:`judge`, :func:`score`,
  :class:`Score`).
* :mod:`gridmap.testing.messy`: seeded messy addresses for the buildings of an
  :class:`~gridmap.io.Interchange`, each labelled (:func:`generate_cases`, :data:`KINDS`);
  written by :mod:`gridmap.testing.spelling` and labelled by :mod:`gridmap.testing.labels`
  from the data alone, with the matcher's own name rule.

>>> from gridmap.testing import Expected, Got, judge
>>> judge(Expected("ambiguous"), Got("ok", "220102005004001", "B1"))
'confident_wrong'
"""

from __future__ import annotations

from gridmap.testing.messy import KINDS, generate_cases
from gridmap.testing.scoring import (
    LEVELS,
    OUTCOMES,
    Case,
    Expected,
    Got,
    Score,
    got_from,
    judge,
    score,
)

__all__ = [
    "KINDS",
    "LEVELS",
    "OUTCOMES",
    "Case",
    "Expected",
    "Got",
    "Score",
    "generate_cases",
    "got_from",
    "judge",
    "score",
]
