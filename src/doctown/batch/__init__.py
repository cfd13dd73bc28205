"""The OpenAI Batch API for `doctown build --batch`: half the price, answers within 24 hours."""

from doctown.batch.requests import MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE, RequestFile
from doctown.batch.runner import BatchRunner

__all__ = ["MAX_BYTES_PER_FILE", "MAX_REQUESTS_PER_FILE", "BatchRunner", "RequestFile"]
