"""``manage.py db_worker``: django_tasks_db's worker, made to outlive database
restarts. Upstream, a lost connection ends the process; here the worker logs
it, waits (1 s, doubling up to 30 s) and goes on polling once the database is
back. A job that was cut off keeps its lease and is re-queued by the sweeper.
"""

import logging
import time

from django.db import InterfaceError, OperationalError, connections
from django_tasks_db.management.commands import db_worker as upstream

logger = logging.getLogger("django_tasks_db")

MAX_BACKOFF = 30.0


class ResilientWorker(upstream.Worker):
    def run(self) -> None:
        delay = 1.0
        while True:
            started = time.monotonic()
            try:
                return super().run()
            except (OperationalError, InterfaceError) as error:
                if not self.running:
                    return None
                if time.monotonic() - started > 60:
                    delay = 1.0  # it had been working for a while: start over
                logger.warning("database unavailable (%s); retrying in %.0f s", error, delay)
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)


class Command(upstream.Command):
    help = upstream.Command.help + " Keeps running through database restarts."

    def handle(self, *args, **options):
        from core.memory import return_freed_memory

        return_freed_memory()
        upstream.Worker = ResilientWorker  # the upstream command builds its worker by name
        return super().handle(*args, **options)
