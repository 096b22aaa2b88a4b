"""Photo checks (pure): an appeal's photo is a JPEG, PNG or WebP image of bounded size.

The type is read from the file's own first bytes, not from the name or the declared type, so a
renamed document is refused.

>>> sniff(b"\\x89PNG\\r\\n\\x1a\\n" + b"0" * 10)
'image/png'
>>> check_photo(b"%PDF-1.7 ...", "report.pdf")
Traceback (most recent call last):
...
gridmap.appeals.photos.PhotoRefused: photo 'report.pdf' is not a JPEG, PNG or WebP image (its first bytes read '%PDF-1.7')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gridmap.errors import InvalidInput

__all__ = ["MAX_PHOTOS", "MAX_PHOTO_BYTES", "Photo", "PhotoRefused", "check_photo", "sniff"]

#: the largest photo accepted (a phone photo at full size is 2-6 MB)
MAX_PHOTO_BYTES = 8 * 1024 * 1024
#: photos one appeal may carry
MAX_PHOTOS = 9


class PhotoRefused(InvalidInput):
    """A photo of the wrong type or size."""

    code = "photo_refused"


@dataclass(frozen=True)
class Photo:
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def suffix(self) -> str:
        return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}[self.content_type]


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its magic bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(data: bytes, name: str = "photo", max_bytes: int = MAX_PHOTO_BYTES) -> Photo:
    """The photo, checked: refused when empty, over ``max_bytes`` or not an image we keep."""
    if not data:
        raise PhotoRefused(f"photo {name!r} is empty", value=name)
    if len(data) > max_bytes:
        raise PhotoRefused(
            f"photo {name!r} is {len(data):,} bytes: at most {max_bytes:,} are accepted",
            value=name,
            size=len(data),
            limit=max_bytes,
        )
    kind = sniff(data)
    if kind is None:
        head = data[:8].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise PhotoRefused(
            f"photo {name!r} is not a JPEG, PNG or WebP image (its first bytes read '{head}')",
            value=name,
        )
    return Photo(kind, data, hashlib.sha256(data).hexdigest())
