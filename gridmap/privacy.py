"""Personal data: the one rule for showing a chief's phone number.

Every output path (the API's JSON, the zone map, CSV from ``gridmap resolve``, exports of
results) shows a phone through :func:`shown_phone`, so an unauthorised caller sees the same
masked form everywhere.
"""

from __future__ import annotations

__all__ = ["mask_phone", "shown_phone"]


def mask_phone(phone: str | None) -> str | None:
    """Hide the middle of a phone number: keep the first three and the last four characters.

    Numbers shorter than nine characters keep only their last two. The masked form has as
    many characters as the number, so its length still tells a mobile from a landline.

    >>> mask_phone("13912345678")
    '139****5678'
    >>> mask_phone("0431-8888123")
    '043*****8123'
    >>> mask_phone(" 12345 ")
    '***45'
    >>> mask_phone(None) is None
    True
    """
    if phone is None:
        return None
    phone = phone.strip()
    if len(phone) >= 9:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def shown_phone(phone: str | None, authorised: bool) -> str | None:
    """The phone as this caller may see it: whole when authorised, masked otherwise.

    >>> shown_phone("13912345678", authorised=False), shown_phone("13912345678", True)
    ('139****5678', '13912345678')
    """
    return phone if authorised else mask_phone(phone)
