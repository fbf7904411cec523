"""Property-based fuzzing of the REST API from its OpenAPI schema (schemathesis).

    .venv/bin/python -P bench/fuzz_api.py [--max-examples 30] [--workers 2]

On a fresh SQLite database it bootstraps the model, creates a user with an API
token and a little data (a classification, a batch, a trained classifier),
serves the API with gunicorn (production settings) and runs schemathesis twice
over every operation of the schema that ``/api/schema/`` serves:

1. authenticated as that user: no 5xx, responses conform to the schema;
2. with no credentials: every operation answers 401 or 403 (a custom check).

Prints schemathesis' summaries; exits non-zero if either run finds a failure.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
_spec = importlib.util.spec_from_file_location("bench_http", ROOT / "bench" / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)

SEED = r"""
from accounts.models import User
from accounts.services import api_token_create
from classification import services as classification
from core.uploads import Upload
from models_registry.selectors import model_version_for_alias
from tests.training.examples import TEXTURES, crops
from training import services as training

user = User.objects.create_user(email="fuzz@example.com")
version = model_version_for_alias(alias="default")
data = crops("brick.png", 1)[0]
classification.classify_uploads(user=user, uploads=[Upload("a.jpg", data)], version=version)
classification.batch_job_create(user=user, uploads=[Upload("b.jpg", data)], version=version)
classifier = training.classifier_create(user=user, name="fuzz", class_names=list(TEXTURES))
training.examples_add(classifier=classifier, uploads_by_class={
    name: [Upload(f"{i}.jpg", d) for i, d in enumerate(crops(src, 3, seed=n))]
    for n, (name, src) in enumerate(TEXTURES.items())})
run, _ = training.training_start(classifier=classifier, user=user)
training.training_run(run_id=run.pk)
print(api_token_create(user=user, name="fuzz")[1])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="picsort-fuzz-"))
    port = bench_http.free_port()
    env = bench_http.production_env(
        workdir,
        f"sqlite:///{workdir / 'fuzz.sqlite3'}",
        DJANGO_LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
    )
    server = None
    failed = False
    try:
        token = bench_http.prepare_site(env, SEED)
        schema = workdir / "schema.yaml"
        bench_http.manage(env, "spectacular", "--file", str(schema))
        server = bench_http.start_gunicorn(env, port, 2)
        base = f"http://127.0.0.1:{port}"
        bench_http.wait_for(f"{base}/healthz")
        st = str(Path(PY).parent / "schemathesis")
        common = [
            st,
            "run",
            str(schema),
            "--url",
            base,
            "--max-examples",
            str(args.max_examples),
            "--workers",
            str(args.workers),
            "--seed",
            "1",
            "--request-timeout",
            "60",
        ]
        print("== authenticated: no server errors, answers match the schema", flush=True)
        authed = subprocess.run(
            [
                *common,
                "-H",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,response_schema_conformance,"
                "content_type_conformance,status_code_conformance",
            ],
            cwd=workdir,
            env=env,
            check=False,
        )
        print("\n== no credentials: only 401/403", flush=True)
        anonymous = subprocess.run(
            [*common, "--checks", "only_denied"],
            cwd=workdir,
            env={**env, "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks"},
            check=False,
        )
        failed = authed.returncode != 0 or anonymous.returncode != 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
