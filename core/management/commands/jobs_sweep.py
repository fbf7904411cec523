import time

from django.core.management.base import BaseCommand

from core.jobs import sweep_all


class Command(BaseCommand):
    help = (
        "Re-queue jobs (batches, training runs) whose worker vanished (expired lease) "
        "and re-send jobs that waited too long. With --loop, repeat every N seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="seconds between sweeps")

    def handle(self, *args, loop: float, **options):
        while True:
            counts = sweep_all()
            if any(counts.values()) or options["verbosity"] > 1:
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            if not loop:
                return
            time.sleep(loop)
