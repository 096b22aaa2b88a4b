"""The roster use cases: assign, end and replace chiefs, a post's history, vacancies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from datetime import date

    from gridmap.roster import Post

__all__ = ["RosterUseCases"]


class RosterUseCases(ServiceBase):
    def assign(
        self, post: Post, person_id: str, *, since: date | None = None, name: str | None = None,
        phone: str | None = None, actor: str = "cli",
    ) -> dict[str, Any]:  # fmt: skip
        """Give a vacant post to a person (a new person needs a name)."""
        from gridmap.db import roster

        with self.connection() as conn:
            return roster.assign(conn, post, person_id, since=since, name=name, phone=phone,
                                 actor=actor)  # fmt: skip

    def end_term(
        self, post: Post, *, until: date | None = None, actor: str = "cli"
    ) -> dict[str, Any]:
        """End the current term of a post."""
        from gridmap.db import roster

        with self.connection() as conn:
            return roster.end(conn, post, until=until, actor=actor)

    def replace_chief(
        self, post: Post, person_id: str, *, since: date | None = None, name: str | None = None,
        phone: str | None = None, actor: str = "cli",
    ) -> dict[str, Any]:  # fmt: skip
        """End the current chief's term and start the new chief's, in one transaction."""
        from gridmap.db import roster

        with self.connection() as conn:
            return roster.replace(conn, post, person_id, since=since, name=name, phone=phone,
                                  actor=actor)  # fmt: skip

    def post_history(self, post: Post, *, authorised: bool = False) -> list[dict[str, Any]]:
        """Every term of a post, oldest first; phones masked unless ``authorised``."""
        from gridmap.db import roster
        from gridmap.privacy import shown_phone

        with self.connection() as conn:
            rows = roster.history(conn, post)
        return [{**r, "phone": shown_phone(r["phone"], authorised)} for r in rows]

    def vacancies(self, division: str) -> list[dict[str, Any]]:
        """Vacant posts under a division (no personal data in them)."""
        from gridmap.db import roster

        with self.connection() as conn:
            return roster.vacancies(conn, division)
