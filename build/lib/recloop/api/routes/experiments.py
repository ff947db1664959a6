"""Experiments: list, create (admin), stop (admin), results. Thin over the engine.

The :class:`~recloop.experiments.engine.ExperimentEngine` is built in the
app's lifespan and kept on ``app.state.experiments``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from recloop.api.deps import AdminKey
from recloop.api.schemas import ExperimentList, ExperimentOut
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.models import ExperimentSpec, Results

__all__ = ["EngineDep", "get_engine", "router"]

router = APIRouter(prefix="/v1", tags=["experiments"])


async def get_engine(request: Request) -> ExperimentEngine:
    """The experiment engine stored on the app state by the lifespan."""
    engine: ExperimentEngine = request.app.state.experiments
    return engine


EngineDep = Annotated[ExperimentEngine, Depends(get_engine)]


@router.get("/experiments", response_model=ExperimentList)
def list_experiments(engine: EngineDep) -> dict[str, Any]:
    """Every experiment, newest first."""
    return {"experiments": [e.public() for e in engine.list()]}


@router.post("/experiments", response_model=ExperimentOut)
def create_experiment(engine: EngineDep, _admin: AdminKey, spec: ExperimentSpec) -> dict[str, Any]:
    """Start an experiment (409 while another one runs)."""
    return engine.create(spec).public()


@router.post("/experiments/{experiment_id}/stop", response_model=ExperimentOut)
def stop_experiment(engine: EngineDep, _admin: AdminKey, experiment_id: str) -> dict[str, Any]:
    """Stop serving variants; results stay readable."""
    return engine.stop(experiment_id).public()


@router.get("/experiments/{experiment_id}/results", response_model=Results)
def experiment_results(engine: EngineDep, experiment_id: str) -> Any:
    """Per-variant rates, lift, fixed-horizon and sequential tests, SRM and the decision."""
    return engine.results(experiment_id)
