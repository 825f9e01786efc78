"""Cursor paging as a django-ninja pagination class: ``{"items": [...], "next": cursor}``.

The cursor is the (column, id) of the last item, opaque to clients (base64 of JSON); the
next page continues strictly after it, so an item is never read twice nor skipped, however
many rows are added or removed meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from .problems import ApiProblem


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "The cursor is not one this API gave.", kind="bad-cursor") from None
    if not isinstance(values, list) or len(values) != 2:
        raise ApiProblem(400, "The cursor is not one this API gave.", kind="bad-cursor")
    return values


class KeysetPagination(PaginationBase):
    """Ordered by (``column``, id), ascending or (``descending``) newest first."""

    items_attribute = "items"

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500, description="Items per page (1-500).")
        cursor: str | None = Field(None, max_length=200, description="`next` of the last page.")

    class Output(Schema):
        items: list[Any]
        next: str | None = Field(None, description="Pass as `cursor` for the next page.")

    def __init__(
        self,
        *,
        column: str = "id",
        descending: bool = False,
        item: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.column = column
        self.descending = descending
        self.item = item
        super().__init__(**kwargs)

    def _after(self, queryset: QuerySet, cursor: str) -> QuerySet:
        value, pk = _decode(cursor)
        if not isinstance(pk, int):
            raise ApiProblem(400, "The cursor is not one this API gave.", kind="bad-cursor")
        op = "lt" if self.descending else "gt"
        if self.column == "id":
            return queryset.filter(**{f"pk__{op}": pk})
        return queryset.filter(
            Q(**{f"{self.column}__{op}": value}) | Q(**{self.column: value, f"pk__{op}": pk})
        )

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params: Any) -> Any:
        if pagination.cursor:
            queryset = self._after(queryset, pagination.cursor)
        sign = "-" if self.descending else ""
        order = [f"{sign}pk"] if self.column == "id" else [f"{sign}{self.column}", f"{sign}pk"]
        rows = list(queryset.order_by(*order)[: pagination.limit + 1])
        more = len(rows) > pagination.limit
        rows = rows[: pagination.limit]
        following = None
        if more and rows:
            last = rows[-1]
            following = _encode([getattr(last, self.column), last.pk])
        items = [self.item(row) for row in rows] if self.item else rows
        return {"items": items, "next": following}
