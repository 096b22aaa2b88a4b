"""Normalise and parse Chinese addresses into components (pure: no I/O).

``normalize_address`` gives the canonical spelling, ``Gazetteer`` knows the division names
of the service area, and ``parse_address`` splits an address into a ``ParsedAddress``.

>>> gaz = Gazetteer.from_records([("220100000000", "长春市", "city", "220000000000", ())])
>>> parse_address("长春市亚泰大街３２１８号", gaz).house_number
'3218'
"""

from gridmap.address.gazetteer import Division, DivisionRecord, Gazetteer
from gridmap.address.normalize import normalize_address
from gridmap.address.parse import (
    COMPONENTS,
    Ambiguity,
    ParsedAddress,
    parse_address,
    parse_many,
)

__all__ = [
    "COMPONENTS",
    "Ambiguity",
    "Division",
    "DivisionRecord",
    "Gazetteer",
    "ParsedAddress",
    "normalize_address",
    "parse_address",
    "parse_many",
]
