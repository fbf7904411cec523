import logging
import time

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, connections

from core.jobs import sweep_all

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Re-queue background jobs (batches, training runs, model validations, example "
        "imports) whose worker vanished (expired lease) "
        "and re-send jobs that waited too long. With --loop, repeat every N seconds "
        "(and keep going through database restarts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="seconds between sweeps")

    def handle(self, *args, loop: float, **options):
        while True:
            try:
                counts = sweep_all()
            except (OperationalError, InterfaceError) as error:
                if not loop:
                    raise
                logger.warning("database unavailable (%s); sweeping again later", error)
                connections.close_all()
            else:
                if any(counts.values()) or options["verbosity"] > 1:
                    self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            if not loop:
                return
            time.sleep(loop)
