"""A job's counts and usage, kept current from its events while it runs."""

from __future__ import annotations

from collections.abc import Callable

from doctown import events
from doctown.pipeline import Plan
from doctown.schemas import UsageReport
from doctown.server.jobs.records import Job, JobCounts

_USAGE_FIELDS = ("input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens")


class Progress:
    """A subscriber that updates `job` from generation events, then calls `changed`.

    The live figures add up what each symbol's event reports; the terminal event carries the
    engine's own totals, which replace them.
    """

    def __init__(self, job: Job, changed: Callable[[], None]) -> None:
        self.job = job
        self.changed = changed

    def planned(self, plan: Plan) -> None:
        """Start the counts from the plan: every selected symbol is remaining or reused."""
        symbols, reused = len(plan.selection.indices), len(plan.selection.reused)
        self.job.counts = JobCounts(symbols=symbols, reused=reused, remaining=symbols - reused)
        self.changed()

    def __call__(self, event: events.Event) -> None:
        counts, usage, payload = self.job.counts, self.job.usage, event.payload
        if event.type == events.GENERATION_SYMBOL_DOCUMENTED:
            counts.documented += 1
            counts.cached += bool(payload.get("cached"))
            counts.remaining -= 1
            for name in _USAGE_FIELDS:
                setattr(usage, name, getattr(usage, name) + payload.get(name, 0))
        elif event.type == events.GENERATION_SYMBOL_FAILED:
            # A symbol skipped because the job stopped (cost cap, quota) is still remaining.
            if payload.get("reason") == "not_attempted":
                return
            counts.failed += 1
            counts.remaining -= 1
        elif event.type == events.JOB_COMPLETED:
            self.job.counts = JobCounts.model_validate(payload)
            self.job.usage = UsageReport.model_validate(payload["usage"])
            self.changed()
            return
        else:
            return
        usage.requests += payload.get("attempts", 0)
        usage.cost += payload.get("cost", 0.0)
        self.changed()
