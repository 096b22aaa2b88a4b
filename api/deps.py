"""Dependencies, declared once as ``Annotated`` aliases and reused in every route."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from api.errors import InvalidApiKey
from api.settings import Settings
from gridmap.service import Gridmap


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_gridmap(request: Request) -> Gridmap:
    """The app's :class:`~gridmap.service.Gridmap`: each use case takes a pooled connection
    inside its own call and gives it back, so no request holds one across its lifetime."""
    gm: Gridmap = request.app.state.gridmap
    return gm


GridmapDep = Annotated[Gridmap, Depends(get_gridmap)]


def is_authorised(
    settings: SettingsDep,
    authorization: Annotated[
        str | None,
        Header(description="`Bearer <api key>`: unmasks chiefs' phone numbers."),
    ] = None,
    x_api_key: Annotated[
        str | None, Header(description="An API key: unmasks chiefs' phone numbers.")
    ] = None,
) -> bool:
    """Whether the caller presented a valid API key; a wrong key is refused (401), not ignored."""
    presented = x_api_key
    if presented is None and authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidApiKey(
                f"Authorization scheme {scheme[:20]!r} is not accepted: send "
                "'Authorization: Bearer <api key>' or 'X-API-Key: <api key>'"
            )
        presented = token.strip()
    if presented is None:
        return False
    for key in settings.api_keys:
        if hmac.compare_digest(presented.encode(), key.encode()):
            return True
    raise InvalidApiKey("the API key presented is not valid")


AuthorisedDep = Annotated[bool, Depends(is_authorised)]


def require_key(authorised: AuthorisedDep) -> None:
    """Refuse (401) a caller without a valid API key."""
    if not authorised:
        raise InvalidApiKey("this endpoint needs an API key (Authorization: Bearer or X-API-Key)")


RequireKey = Depends(require_key)
