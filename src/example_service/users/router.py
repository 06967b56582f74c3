"""/users: thin handlers over `UserService`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from example_service import conditional
from example_service.auth.dependencies import CurrentPrincipal, Principal, require_permission
from example_service.auth.roles import Permission
from example_service.db.pagination import Page, Pagination
from example_service.db.session import DbSession
from example_service.errors.problem import problem_responses
from example_service.users.schemas import UserCreate, UserRead, UserUpdate
from example_service.users.service import UserService, read_public, send_welcome

router = APIRouter(prefix="/users", tags=["users"])

_AUTH = problem_responses(401)


async def _service(request: Request, session: DbSession) -> UserService:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request.
    state = request.app.state
    return UserService(session, state.passwords, state.identity_cache)


Service = Annotated[UserService, Depends(_service)]


@router.post("", status_code=201, response_model=UserRead, responses=problem_responses(409, 422))
async def register(request: Request, data: UserCreate, service: Service) -> UserRead:
    """Register a user (always with the `user` role)."""
    user = await service.register(data)
    # part: tasks
    await send_welcome(request.app.state.tasks, user)  # a welcome e-mail, by a task
    # end part: tasks
    return UserRead.model_validate(user)


@router.get(
    "/me",
    response_model=UserRead,
    responses={**_AUTH, **conditional.RESPONSES},
    openapi_extra=conditional.OPENAPI,
)
async def me(request: Request, principal: CurrentPrincipal) -> Response:
    """The calling user (with an ETag: send it back in If-None-Match for a 304)."""
    return conditional.conditional_json(request, principal.user)


@router.get("", response_model=Page[UserRead], responses=problem_responses(401, 403, 422))
async def list_users(
    service: Service,
    params: Pagination,
    _admin: Annotated[Principal, Depends(require_permission(Permission.USERS_LIST))],
) -> Page[UserRead]:
    """All users, oldest first (administrators)."""
    users, total = await service.page(params)
    return Page[UserRead](
        items=[UserRead.model_validate(u) for u in users],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get(
    "/{user_id:uuid}",
    response_model=UserRead,
    responses={**problem_responses(401, 404, 422), **conditional.RESPONSES},
    openapi_extra=conditional.OPENAPI,
)
async def read_user(request: Request, user_id: uuid.UUID, principal: CurrentPrincipal) -> Response:
    """A user: yourself, or anyone for an administrator (with an ETag, as `/users/me`)."""
    # No service dependency: a read the cache answers declares no database session at all.
    user = await read_public(principal, user_id, request.app.state)
    return conditional.conditional_json(request, user)


@router.patch(
    "/{user_id:uuid}", response_model=UserRead, responses=problem_responses(401, 403, 404, 422)
)
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, principal: CurrentPrincipal, service: Service
) -> UserRead:
    """Change name or password (yourself), or also role and is_active (administrators)."""
    return UserRead.model_validate(await service.update(principal, user_id, data))


@router.delete(
    "/{user_id:uuid}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404),
)
async def delete_user(user_id: uuid.UUID, principal: CurrentPrincipal, service: Service) -> None:
    """Delete a user: yourself, or anyone for an administrator."""
    await service.delete(principal, user_id)
