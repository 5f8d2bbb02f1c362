"""Deprecated location of the 12-bit task's rule: it lives in :mod:`structlearn.data.tishby_rule`.

Nothing in :mod:`structlearn.estimators` imports this module (estimators do not import data);
it only keeps old imports working.
"""

from structlearn.data.tishby_rule import (
    ICOSAHEDRON_EDGES,
    TISHBY_THRESHOLD,
    icosahedron_gram,
    tishby_score,
)

__all__ = ["ICOSAHEDRON_EDGES", "TISHBY_THRESHOLD", "icosahedron_gram", "tishby_score"]
