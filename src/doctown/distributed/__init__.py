"""Distributed builds: shards of a build's prompts documented by `doctown worker` processes.

    coordinator  the build's side: cut prompts into shards, send them, answer from results
    dispatch     the one thread that talks to Celery for the coordinator
    worker       `doctown worker`: a Celery worker that documents shards
    app          the Celery application both sides share (Redis broker and result backend)
    wire         the JSON that travels: shard requests and outcomes
    limits       policies all workers apply together: token budget, pause, stop
    signals      the pause and stop every worker must learn at once (Redis keys + pub/sub)
    cache        the summary cache workers share in Redis

The pipeline asks this package to run a build's generation (`Distributed.engine_for`); this
package never calls the pipeline.
"""

from doctown.errors import MissingExtraError

try:
    import celery  # noqa: F401
    import redis  # noqa: F401
except ImportError:
    raise MissingExtraError("Celery and Redis (distributed builds)", "distributed") from None

from doctown.distributed.coordinator import Distributed, ShardedBackend, WorkerInfo

__all__ = ["Distributed", "ShardedBackend", "WorkerInfo"]
