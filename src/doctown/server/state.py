"""What the running worker holds: settings, the engine, the jobs, event subscribers, health."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from doctown.config import Settings
from doctown.events import Subscriber
from doctown.generation import GenerationEngine
from doctown.redaction import redact
from doctown.schemas import HealthResponse
from doctown.server.jobs.service import JobService
from doctown.server.viewpass import ViewPass


@dataclass
class WorkerState:
    settings: Settings
    engine: GenerationEngine
    jobs: JobService
    subscribers: list[Subscriber] = field(default_factory=list)
    _health: HealthResponse | None = None
    _health_at: float = 0.0
    # Set from WORKER_API_KEY: the passes that let a browser follow links (viewpass.py).
    view_pass: ViewPass | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        key = self.settings.worker_api_key
        self.view_pass = ViewPass(key.get_secret_value()) if key else None

    async def health(self) -> HealthResponse:
        """Readiness from configuration plus the backend's free check, cached briefly."""
        now = time.monotonic()
        if self._health is not None and now - self._health_at < self.settings.health_cache_seconds:
            return self._health
        backend = self.engine.backend
        problem = await backend.readiness()
        self._health = HealthResponse(
            status="healthy" if problem is None else "unhealthy",
            model=backend.model,
            ready=problem is None,
            backend=backend.name,
            detail=redact(problem) if problem else None,
        )
        self._health_at = now
        return self._health
