from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(tags=["meta"])


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str


@router.get("/info", response_model=ServiceInfo)
async def info(request: Request) -> ServiceInfo:
    """Name, version and environment of this instance."""
    app_settings = request.app.state.settings.app
    return ServiceInfo(
        name=app_settings.name, version=app_settings.version, environment=app_settings.environment
    )
