"""Offset pagination: the limit is capped, the total is returned with the page."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.schemas import MAX_DB_INT

MAX_LIMIT = 100
DEFAULT_LIMIT = 20

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = (
        DEFAULT_LIMIT
    ),
    # Bounded by what the database takes as OFFSET (a 64-bit integer): beyond it, a 422.
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def paginate(
    session: AsyncSession, query: Select[T], params: PageParams
) -> tuple[list[T], int]:
    """The rows of one page and the total count of the unpaginated query."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(params.limit).offset(params.offset))
    return list(rows), int(total or 0)
