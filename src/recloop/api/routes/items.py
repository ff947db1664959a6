"""Items: catalog search and similar items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from recloop.api.deps import RuntimeDep
from recloop.api.schemas import ItemList, SimilarItems, item_out, rec_out
from recloop.serving.recommender import similar_items

router = APIRouter(prefix="/v1", tags=["items"])


@router.get("/items", response_model=ItemList)
def search(
    runtime: RuntimeDep,
    query: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ItemList:
    """Titles containing every word of ``query`` (most popular first)."""
    svc = runtime.service
    hits = svc.live.catalog.search(query, limit, svc.live.stats.counts)
    return ItemList(items=[item_out(svc.live.catalog.view(i)) for i in hits])


@router.get("/items/{item_id}/similar", response_model=SimilarItems)
def similar(runtime: RuntimeDep, item_id: int, k: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
    """Items most similar to ``item_id``."""
    found = similar_items(runtime.service, item_id, k)
    return {"item_id": item_id, "items": [rec_out(r).model_dump() for r in found]}
