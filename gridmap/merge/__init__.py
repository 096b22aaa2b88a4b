"""多网合一: merge the party, governance and civil grid layers into one grid set.

The pure merge algorithm (GeoDataFrames in, GeoDataFrames out, no I/O). Each community
(社区/村) is merged on its own: legacy boundaries are snapped to the community frame and to
higher-priority layers, noded into faces, and the faces are labelled (layer priority,
gaps and slivers to the neighbour with the longest shared edge, household balancing by
whole compounds, hamlets in villages) and dissolved with GEOS coverage union. See
``docs/merge.md``.

>>> from gridmap.merge import MergeOptions
>>> MergeOptions().households_max
500
"""

from gridmap.merge.api import merge_community, merge_layers
from gridmap.merge.model import MergeOptions, MergeResult
from gridmap.merge.report import render_report_markdown

__all__ = [
    "MergeOptions",
    "MergeResult",
    "merge_community",
    "merge_layers",
    "render_report_markdown",
]
