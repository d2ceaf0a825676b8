from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ContextDep

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    database: str | None = None
    broker: str | None = None


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: the database and broker are reachable",
    description="503 with the reason when either is not.",
    responses={503: {"model": Health, "description": "The database or broker is unreachable"}},
)
async def readyz(context: ContextDep) -> Response:
    database = "ok"
    try:
        await context.db.ping()
    except Exception as exc:  # any failure to reach it is "not ready", with the reason
        logger.warning("readiness: the database is unreachable: %r", exc)
        database = f"unreachable: {type(exc).__name__}"
    broker = "ok" if context.hub.broker.healthy else "unreachable"
    ready = database == "ok" and broker == "ok"
    health = Health(status="ok" if ready else "unavailable", database=database, broker=broker)
    return JSONResponse(health.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics of every worker",
    description=(
        "Prometheus text format. Every series has a `worker` label; with Redis, any worker answers "
        "for every worker alive (the others' figures are at most `METRICS_INTERVAL_SECONDS` old)."
    ),
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(context: ContextDep) -> Response:
    return Response(await context.metrics.render(), media_type="text/plain; version=0.0.4")
