"""A 1000-image batch on 1 worker process, then on 2: the scale-out ratio.

    .venv/bin/python -P bench/batch_scaling.py [--images 1000] [--db postgres|sqlite]

Makes a fresh database (PostgreSQL by default) and media folder, bootstraps the
model, then for each worker count: queues one batch of ``--images`` JPEGs
(640x480, cut from scikit-image's photographs) through the service code,
starts that many ``manage.py db_worker`` processes on the batches queue
(production settings, one ONNX Runtime thread each) and times the batch from
the first item to the last. Every item must be classified exactly once.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.throwaway import ROOT, photos, throwaway_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    args = parser.parse_args()

    with throwaway_site(args.db, threads=1) as env:
        from accounts.models import User
        from classification import services
        from classification.models import BatchJob, Prediction
        from core.uploads import Upload
        from models_registry.selectors import model_version_for_alias

        user = User.objects.create_user(email="bench@example.com")
        version = model_version_for_alias(alias="default")
        jpegs = photos(args.images)
        results = {}
        for count in [int(n) for n in args.workers.split(",")]:
            job = services.batch_job_create(
                user=user,
                uploads=[Upload(f"{i:04}.jpg", data) for i, data in enumerate(jpegs)],
                version=version,
            )
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "db_worker",
                        "--queue-name",
                        "batches",
                        "--no-startup-delay",
                        "--interval",
                        "0.1",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(count)
            ]
            try:
                deadline = time.monotonic() + 1800
                while time.monotonic() < deadline:
                    job.refresh_from_db()
                    if job.status in ("succeeded", "failed"):
                        break
                    time.sleep(0.2)
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=60)
            assert job.status == "succeeded", job.status
            job = BatchJob.objects.get(pk=job.pk)
            seconds = (job.finished_at - job.started_at).total_seconds()
            made = Prediction.objects.filter(batch_item__job=job).count()
            assert (job.done, made) == (args.images, args.images), (job.done, made)
            results[count] = seconds
            print(
                f"{count} worker(s): {args.images} images in {seconds:6.1f} s "
                f"= {args.images / seconds:6.1f} images/s  (done {job.done}, failed "
                f"{job.failed}, each exactly once)"
            )
        counts = sorted(results)
        if len(counts) > 1:
            base = counts[0]
            for count in counts[1:]:
                print(f"{count} workers vs {base}: {results[base] / results[count]:.2f}x faster")


if __name__ == "__main__":
    main()
