"""The gridmap error hierarchy.

Every error carries a stable machine-readable ``code`` and a message that names the bad
value and what was expected. Only ``api/`` maps these to HTTP status codes.
"""

from __future__ import annotations

from typing import Any


class GridmapError(Exception):
    """Base class of every error gridmap raises on purpose."""

    code: str = "gridmap_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(GridmapError):
    """A value given by the caller has the wrong shape or range."""

    code = "invalid_input"


class InvalidCode(InvalidInput):
    """A division or grid code is malformed.

    ``group`` names the digit group that is wrong (``province``, ``city``, ``county``,
    ``township``, ``village``, ``serial`` or ``format``).
    """

    code = "invalid_code"

    def __init__(self, value: str, group: str, reason: str) -> None:
        where = "" if group == "format" else f"{group} digits "
        super().__init__(
            f"invalid code {value!r}: {where}{reason}",
            value=value,
            group=group,
            reason=reason,
        )
        self.value = value
        self.group = group
        self.reason = reason


class InvalidCRS(InvalidInput):
    """A coordinate reference system is unknown or unusable for the operation."""

    code = "invalid_crs"


class InvalidCoordinate(InvalidInput):
    """A coordinate lies outside the range its CRS allows."""

    code = "invalid_coordinate"


class NotFound(GridmapError):
    """A thing looked up by its key does not exist."""

    code = "not_found"


class UnknownDivision(NotFound):
    code = "unknown_division"

    def __init__(self, code_value: str | None) -> None:
        super().__init__(f"no division with code {code_value!r}", value=code_value)


class UnknownTileLayer(NotFound):
    code = "unknown_tile_layer"


class UnknownGridCode(NotFound):
    code = "unknown_grid"

    def __init__(self, code_value: str) -> None:
        super().__init__(f"no grid with code {code_value!r}", value=code_value)


class UnknownBuilding(NotFound):
    code = "unknown_building"

    def __init__(self, building_id: str) -> None:
        super().__init__(f"no building with id {building_id!r}", value=building_id)


class DatabaseUnavailable(GridmapError):
    """No PostgreSQL/PostGIS could be found, started or reached."""

    code = "database_unavailable"


class MigrationError(GridmapError):
    code = "migration_error"


class ImportValidationError(GridmapError):
    """A file to import has problems; nothing was written.

    ``problems`` lists every problem found, each naming its layer, feature and value.
    """

    code = "import_invalid"

    def __init__(self, problems: list[Any]) -> None:
        n = len(problems)
        head = "; ".join(str(p) for p in problems[:5])
        more = f" (and {n - 5} more)" if n > 5 else ""
        super().__init__(f"{n} problem(s) in the import, nothing was written: {head}{more}")
        self.problems = problems


class LimitExceeded(InvalidInput):
    """A request is larger than the service accepts."""

    code = "limit_exceeded"


class InvalidAddress(InvalidInput):
    """An address to parse is not a non-empty string."""

    code = "invalid_address"


class Forbidden(GridmapError):
    """The caller is known, but its role or scope may not do this."""

    code = "forbidden"


class Conflict(GridmapError):
    """The request is well formed but clashes with the state of the data."""

    code = "conflict"


class UnknownPlan(NotFound):
    code = "unknown_plan"

    def __init__(self, plan_id: int) -> None:
        super().__init__(f"no rebalancing plan with id {plan_id}", value=plan_id)


class StalePlan(Conflict):
    """A plan was drafted against a generation that is no longer the one in force."""

    code = "stale_plan"


class PlanNotDraft(Conflict):
    code = "plan_not_draft"
