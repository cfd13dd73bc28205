"""Build jobs run by the worker: submitted over HTTP, built in the background, kept on disk."""

from doctown.server.jobs.records import Job, JobCreate, JobOptions, JobPublic, JobState
from doctown.server.jobs.service import JobService, Upload

__all__ = ["Job", "JobCreate", "JobOptions", "JobPublic", "JobService", "JobState", "Upload"]
