"""The reference: bare FastAPI serving the service's demo endpoint (`GET /api/v1/info`)."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/info", response_model=ServiceInfo)
    async def info() -> ServiceInfo:
        return ServiceInfo(name="example-service", version="0.1.0", environment="local")

    return app
