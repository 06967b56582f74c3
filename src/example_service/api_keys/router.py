"""/api-keys: the caller's own keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from example_service.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from example_service.api_keys.service import ApiKeyService
from example_service.auth.dependencies import Principal, require_permission
from example_service.auth.roles import Permission
from example_service.db.session import DbSession
from example_service.errors.problem import problem_responses

router = APIRouter(prefix="/api-keys", tags=["api keys"])

Caller = Annotated[Principal, Depends(require_permission(Permission.API_KEYS_MANAGE))]


async def _service(request: Request, session: DbSession) -> ApiKeyService:
    return ApiKeyService(session, request.app.state.identity_cache)


Service = Annotated[ApiKeyService, Depends(_service)]


@router.post(
    "", status_code=201, response_model=ApiKeyCreated, responses=problem_responses(401, 403, 422)
)
async def create_key(data: ApiKeyCreate, caller: Caller, service: Service) -> ApiKeyCreated:
    """Create a key. The response is the only time the key is shown."""
    row, key = await service.create(caller.user.id, data.name)
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=key)


@router.get("", response_model=list[ApiKeyRead], responses=problem_responses(401, 403))
async def list_keys(caller: Caller, service: Service) -> list[ApiKeyRead]:
    """Your keys, revoked ones included (without the keys themselves)."""
    return [ApiKeyRead.model_validate(row) for row in await service.owned(caller.user.id)]


@router.delete(
    "/{key_id:uuid}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_key(key_id: uuid.UUID, caller: Caller, service: Service) -> None:
    """Revoke a key: it stops working at once."""
    await service.revoke(caller.user.id, key_id)
