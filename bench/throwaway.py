"""A throw-away site for the in-process benchmarks: a fresh database
(PostgreSQL by default, or SQLite) and media folder, production settings,
migrated, the pretrained model ready; everything removed afterwards. And
photos cut from scikit-image's photographs."""

import contextlib
import io
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]


def photos(count: int, sources: list[str] = SOURCES, size=(640, 480)) -> list[bytes]:
    """``count`` JPEGs, random square crops of the sources in turn, resized."""
    from importlib.resources import files

    import numpy as np
    from PIL import Image

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
        crop = image.crop((x, y, x + side, y + side)).resize(size)
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


@contextlib.contextmanager
def throwaway_site(db: str = "postgres", threads: int | None = 1):
    """Yields the environment the site runs with (for worker processes too),
    after migrating and bootstrapping the model in this process."""
    workdir = Path(tempfile.mkdtemp(prefix="picsort-bench-"))
    drop = None
    if db == "postgres":
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
        "DJANGO_LOG_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    if threads:
        env["DJANGO_INFERENCE_THREADS"] = str(threads)
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("bootstrap_models", stdout=io.StringIO())
        print(f"setup: model ready in {time.perf_counter() - started:.1f} s")
        yield env
    finally:
        from django.db import connections

        connections.close_all()
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
