"""What validation reports: :class:`Problem`, and the small helpers the checks share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["PERSONAL", "Problem", "Severity", "mojibake", "personal"]

Severity = Literal["error", "warning", "fixed"]

#: columns that hold personal data: a problem in one names its row by the layer's key
#: (``person P1``) and never shows the value (see :func:`personal`)
PERSONAL: dict[str, tuple[str, ...]] = {"people": ("name", "phone")}


@dataclass(frozen=True)
class Problem:
    """One problem in an import: where it is, what the value was, and what was expected.

    >>> str(Problem("buildings", 12, "households", "abc", "is not a whole number"))
    "buildings row 12 households: 'abc' is not a whole number"
    >>> str(Problem("divisions", None, None, None, "unknown CRS: the file declares none"))
    'divisions: unknown CRS: the file declares none'
    """

    layer: str
    row: int | None
    field: str | None
    value: Any
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.layer if self.row is None else f"{self.layer} row {self.row}"
        if self.field is not None:
            where += f" {self.field}"
        what = self.message if self.value is None else f"{self.value!r} {self.message}"
        prefix = "fixed: " if self.severity == "fixed" else ""
        return f"{where}: {prefix}{what}"


def personal(
    layer: str,
    frame: pd.DataFrame,
    row: int,
    field: str,
    message: str,
    severity: Severity = "error",
) -> Problem:
    """A problem in a column of personal data: the row is named by its ``person_id``, the
    value is withheld (``message`` must not carry it either).

    >>> people = pd.DataFrame({"person_id": ["P7"], "phone": ["123"]})
    >>> str(personal("people", people, 0, "phone", "is too short"))
    'people row 0 phone: person P7: is too short (the value is not shown: personal data)'
    """
    key = frame["person_id"].iloc[row] if "person_id" in frame.columns else None
    who = f"person {key}" if present(key) else "a person without person_id"
    return Problem(
        layer,
        row,
        field,
        None,
        f"{who}: {message} (the value is not shown: personal data)",
        severity,
    )


def present(v: Any) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and np.isnan(v))


def values(frame: pd.DataFrame, col: str) -> Iterator[tuple[int, Any]]:
    if col not in frame.columns:
        return
    for i, v in enumerate(frame[col].tolist()):
        if present(v):
            yield i, v


def is_in(values: pd.Series, targets: Iterable[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Whether each of ``values`` (as text) is one of ``targets``; missing values are not.

    By Arrow's hash lookup: pandas' own ``isin`` on Arrow text walks the targets in Python,
    which for a province's millions of keys took seconds and gigabytes.

    >>> is_in(pd.Series(["B1", None, "B3"], dtype="string"), {"B1", "B2"}).tolist()
    [True, False, False]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(targets, pd.Series):
        wanted = pa.array(targets.dropna().astype("string"), from_pandas=True)
    else:
        wanted = pa.array([str(t) for t in targets], type=pa.large_string())
    here = pa.array(values.astype("string"), from_pandas=True)
    if len(here) == 0:
        return np.zeros(0, dtype=bool)
    hit = pc.is_in(here.cast(pa.large_string()), value_set=wanted.cast(pa.large_string()))
    return np.asarray(hit.fill_null(False), dtype=bool)


def text_column(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as text (all missing where the frame has no such column)."""
    if col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[col].astype("string")


def text_set(frame: pd.DataFrame, col: str) -> set[str]:
    if col not in frame.columns:
        return set()
    return set(frame[col].dropna().astype(str).tolist())


def mojibake(text: str, meant: bool = True) -> str | None:
    """Why ``text`` looks wrongly decoded, or None.

    Catches replacement characters, and UTF-8 read as GBK or Latin-1 (and GBK as Latin-1),
    by re-encoding the text the wrong way and seeing whether it decodes the right way; and
    NUL characters, which no database text can hold. With ``meant=False`` the text it
    probably meant is left out (for personal data).

    >>> mojibake("龙兴社区") is None
    True
    >>> mojibake("榫欏叴绀惧尯")
    "looks like UTF-8 read as GBK (meant '龙兴社区')"
    >>> mojibake("Áúð")
    'contains Latin-1 letters where Chinese text is expected'
    >>> mojibake("B1\\x00")
    'contains a NUL character (U+0000), which text cannot hold'
    >>> mojibake("榫欏叴绀惧尯", meant=False)
    'looks like UTF-8 read as GBK'
    """
    if "\x00" in text:
        return "contains a NUL character (U+0000), which text cannot hold"
    if "\ufffd" in text:
        return "contains the replacement character U+FFFD (undecodable bytes)"
    if text.isascii():
        return None
    for wrong, right in (("gbk", "utf-8"), ("latin-1", "utf-8"), ("latin-1", "gb18030")):
        try:
            fixed = text.encode(wrong).decode(right)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text and any("\u4e00" <= ch <= "\u9fff" for ch in fixed):
            why = f"looks like {right.upper()} read as {wrong.upper()}"
            return f"{why} (meant {fixed!r})" if meant else why
    if any("\u00c0" <= ch <= "\u00ff" for ch in text):
        return "contains Latin-1 letters where Chinese text is expected"
    if any("\ue000" <= ch <= "\uf8ff" or ord(ch) < 32 for ch in text):
        return "contains private-use or control characters"
    return None
