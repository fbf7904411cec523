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
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def photos(count: int) -> list[bytes]:
    from importlib.resources import files

    import numpy as np
    from PIL import Image

    sources = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]
    images = [
        Image.open(io.BytesIO((files("skimage") / "data" / name).read_bytes())).convert("RGB")
        for name in sources
    ]
    rng = np.random.default_rng(0)
    out = []
    for number in range(count):
        image = images[number % len(images)]
        width, height = image.size
        side = int(min(width, height) * rng.uniform(0.6, 1.0))
        x, y = rng.integers(0, width - side + 1), rng.integers(0, height - side + 1)
        crop = image.crop((x, y, x + side, y + side)).resize((640, 480))
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="picsort-batch-bench-"))
    drop = None
    if args.db == "postgres":
        import psycopg

        name = f"picsort_bench_{secrets.token_hex(4)}"
        admin = "postgres://postgres@127.0.0.1:5432/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgres://postgres@127.0.0.1:5432/{name}"

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_EMAIL_URL": "consolemail://",
        "DATABASE_URL": url,
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_INFERENCE_THREADS": "1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("bootstrap_models", stdout=io.StringIO())
        print(f"setup: model ready in {time.perf_counter() - started:.1f} s")

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
    finally:
        from django.db import connections

        connections.close_all()
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
