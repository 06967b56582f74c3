"""include_flat registers the same operations as FastAPI's include_router, without nesting."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import Route

from example_service.routing import include_flat


class Item(BaseModel):
    id: int
    name: str


def require_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


def build_router() -> APIRouter:
    router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(require_token)])

    @router.get(
        "/{item_id}",
        response_model=Item,
        summary="Read an item",
        responses={404: {"description": "nope"}},
    )
    async def read(item_id: int) -> Item:
        return Item(id=item_id, name="x")

    @router.post("", status_code=201, response_model=Item)
    async def create(item: Item) -> Item:
        return item

    return router


def test_same_openapi_as_include_router() -> None:
    nested, flat = FastAPI(), FastAPI()
    nested.include_router(build_router(), prefix="/api")
    include_flat(flat, build_router(), prefix="/api")
    assert flat.openapi()["paths"] == nested.openapi()["paths"]
    assert all(isinstance(route, APIRoute) for route in flat.routes[-2:])


async def test_flat_routes_behave_the_same() -> None:
    app = FastAPI()
    include_flat(app, build_router(), prefix="/api")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/api/items/3")).status_code == 422  # router dependency kept
        ok = await client.get("/api/items/3", headers={"x-token": "t"})
        assert ok.json() == {"id": 3, "name": "x"}
        created = await client.post(
            "/api/items", json={"id": 1, "name": "a"}, headers={"x-token": "t"}
        )
        assert created.status_code == 201


def test_rejects_non_api_routes() -> None:
    router = APIRouter()
    router.routes.append(Route("/raw", lambda request: None))
    with pytest.raises(TypeError):
        include_flat(FastAPI(), router)
