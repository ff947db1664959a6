"""``recloop consume``: apply the Kafka topic's events to the shared Redis state (a consumer group)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from recloop.cli.output import err_console, fail, guarded
from recloop.config import get_settings

__all__ = ["consume"]


def consume(
    metrics_port: Annotated[
        int, typer.Option(help="serve Prometheus metrics (consumer lag, applied events) on this port; 0: off")
    ] = 9108,
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="events per poll, applied and committed together")
    ] = 1000,
    archive: Annotated[
        bool, typer.Option(help="also copy the log into RECLOOP_ARCHIVE__PATH (a thread)")
    ] = False,
) -> None:
    """Consume RECLOOP_EVENTS__TOPIC as group RECLOOP_EVENTS__GROUP; run several for more throughput."""
    from prometheus_client import start_http_server

    from recloop.data import load_dataset
    from recloop.events.consumer import ConsumerMetrics, EventConsumer
    from recloop.features.store import open_serving_store
    from recloop.serving.runtime import bundle_half_life, champion_dir

    settings = get_settings()
    if settings.state.type != "redis":
        fail("recloop consume applies events to the shared state: set RECLOOP_STATE__TYPE=redis")
    data = guarded(lambda: load_dataset(settings))
    _, bundle = guarded(lambda: champion_dir(settings))
    half_life = bundle_half_life(bundle)
    store = guarded(lambda: open_serving_store(settings.state, data.n_items, settings.home, half_life))
    metrics = ConsumerMetrics()
    consumer = guarded(lambda: EventConsumer(settings.events, store, metrics, batch=batch))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    archiver = None
    if archive:
        from recloop.archive import Archiver, DeltaArchive

        if not settings.archive.path:
            fail("--archive needs RECLOOP_ARCHIVE__PATH (the Delta table)")
        archiver = Archiver(store, DeltaArchive(settings.archive.path), settings.archive.batch)
        threading.Thread(target=archiver.follow, args=(settings.archive.every_s, stop), daemon=True).start()
    err_console.print(f"consuming {settings.events.topic} from {settings.events.bootstrap} as "
                      f"{settings.events.group}; metrics on :{metrics_port}; Ctrl-C stops")  # fmt: skip
    try:
        guarded(lambda: consumer.run(stop))
    finally:
        consumer.close()
        if archiver is not None:
            archiver.close()
        store.close()
