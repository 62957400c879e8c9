"""One page of a keyset-paginated list, as every list service returns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; `more` when a next page exists."""

    items: list[T]
    more: bool


def page_of(rows: list[T], limit: int) -> Page[T]:
    """The page from `limit + 1` rows: the extra row only says whether a next page exists."""
    return Page(items=rows[:limit], more=len(rows) > limit)
