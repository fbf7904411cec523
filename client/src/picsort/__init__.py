"""Picsort's Python client: ``from picsort import Client``."""

from picsort.client import Client
from picsort.errors import JobFailedError, PicsortError
from picsort.results import Result, Score

__all__ = ["Client", "JobFailedError", "PicsortError", "Result", "Score"]
__version__ = "0.1.0"
