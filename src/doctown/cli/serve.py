from __future__ import annotations

import click

from doctown.config import load_service_settings

GRACEFUL_SHUTDOWN_S = 10


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (PORT, default 8003).")
def serve_command(host: str | None, port: int | None) -> None:
    """Run the worker: GET /health, POST /generate, POST /estimate, and build jobs (/jobs)."""
    import uvicorn

    from doctown.server.app import create_app
    from doctown.server.guard import check_exposure
    from doctown.server.timeouts import head_timeout_protocol

    # The address it binds is also the host name it answers to (see server/guard.py).
    settings = load_service_settings(**({"host": host} if host else {}))
    check_exposure(settings)
    app = create_app(settings)
    host, port = settings.host, port or settings.port
    click.echo(
        f"doctown worker: backend={settings.backend} on http://{host}:{port}",
        err=True,
    )
    # Open event streams would otherwise hold a clean stop until their jobs end; after the
    # grace period jobs still running are marked interrupted (resubmitting pays nothing twice).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        http=head_timeout_protocol(settings.request_head_timeout),
    )
