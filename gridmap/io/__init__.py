"""Files in and out: the interchange format (GeoPackage or folder) and its validation.

>>> from gridmap.io import Interchange, validate
>>> validate(Interchange())
[]
"""

from gridmap.io.files import export_qgis, read_interchange, write_interchange
from gridmap.io.interchange import Interchange
from gridmap.io.layers import LAYERS
from gridmap.io.validate import Problem, densify_divisions, validate, validate_or_raise

__all__ = [
    "LAYERS",
    "Interchange",
    "Problem",
    "densify_divisions",
    "export_qgis",
    "read_interchange",
    "validate",
    "validate_or_raise",
    "write_interchange",
]
