"""The service's configuration: one settings class, read from ``GRIDMAP_*`` variables."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the HTTP API.

    ``GRIDMAP_API_KEYS`` is a comma-separated list; a caller presenting one of them (as
    ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``) sees chiefs' phone numbers
    unmasked. Without ``GRIDMAP_DATABASE_URL`` the service finds or starts a local
    PostgreSQL, as the CLI does.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", extra="ignore")

    database_url: str | None = Field(default=None, repr=False)
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    max_batch_rows: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout_s: float = Field(
        default=1.5, gt=0, description="Longest wait for a pooled connection once admitted."
    )
    max_in_flight: int | None = Field(
        default=None, ge=1, description="Requests at work at once (default: pool_max_size)."
    )
    admission_wait_s: float = Field(
        default=2.0, ge=0, le=60, description="Longest wait for a slot before a 503."
    )
    retry_after_s: int = Field(default=1, ge=1, description="Retry-After sent with a 503.")
    tiles_url: str | None = Field(
        default=None, description="Background tiles for map pages ({z}/{x}/{y}); none offline."
    )
    photo_dir: str | None = Field(
        default=None, description="Where appeal photos are kept; none: in the database."
    )
    photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    duplicate_metres: float = Field(
        default=50.0,
        ge=0,
        le=5000,
        description="Open appeals of the same matter this near a new one are suggested.",
    )

    @property
    def in_flight_limit(self) -> int:
        """Requests let in at once: one per pooled connection unless configured."""
        return self.max_in_flight or self.pool_max_size

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value
