"""Evaluating the pretrained model on 1000 labelled photos, as an
administrator does before a change: the set's import, then the evaluation,
against the bare engine on the same photos in the same run.

    .venv/bin/python -P bench/evaluation.py [--photos 1000] [--db postgres|sqlite]

Makes a throw-away site (fresh database and media folder, production
settings, one ONNX Runtime thread as a worker has), zips ``--photos`` JPEGs
(640x480 crops of scikit-image's photographs) into one folder per class named
by the class's English name, then times, in this process and through the
service code a worker runs:

1. the import: every photo checked, reduced and stored (``evaluation_set_import_run``);
2. the evaluation: every stored photo read, decoded and run through the model,
   then the report (``evaluation_run``);
3. the baseline: the same stored photos decoded and run through
   ``inference.run`` in the same chunks, with no database, lease or report.

The ratio evaluation / baseline is what the job adds to the bare engine. Both
are timed ``--rounds`` times, interleaved, and the best of each is kept.
"""

import argparse
import io
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.throwaway import photos, throwaway_site

# scikit-image photograph -> the ImageNet class it shows (folder = class name)
CLASSES = {
    "coffee.png": "espresso",
    "chelsea.png": "tiger cat",
    "rocket.jpg": "space shuttle",
    "motorcycle_left.png": "moped",
}


def labelled_zip(count: int) -> io.BytesIO:
    sources = list(CLASSES)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, data in enumerate(photos(count, sources=sources)):
            folder = CLASSES[sources[number % len(sources)]]
            archive.writestr(f"{folder}/{number:04}.jpg", data)
    buffer.seek(0)
    return buffer


def baseline_seconds(version, evaluation_set) -> float:
    """The same photos through the bare engine, in the evaluation's chunks."""
    import numpy as np

    from classification import inference
    from core.images import open_image, to_tensor
    from evaluation.services.runs import CHUNK

    spec = inference.preprocessing_for(version)
    stored = list(evaluation_set.photos.order_by("id"))
    started = time.perf_counter()
    for start in range(0, len(stored), CHUNK):
        tensors = []
        for photo in stored[start : start + CHUNK]:
            with photo.file.open("rb") as handle:
                tensors.append(to_tensor(open_image(handle.read(), draft_size=spec.resize), spec))
        inference.run(version, np.concatenate(tensors))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many")
    args = parser.parse_args()

    with throwaway_site(args.db, threads=1):
        from accounts.models import User
        from evaluation import services
        from evaluation.models import Evaluation, EvaluationSet
        from models_registry.selectors import model_version_for_alias

        staff = User.objects.create_user(email="staff@example.com", is_staff=True)
        version = model_version_for_alias(alias="default")
        archive = labelled_zip(args.photos)
        print(f"zip: {args.photos} photos, {archive.getbuffer().nbytes / 2**20:.1f} MiB")
        evaluation_set = services.evaluation_set_start(
            name="bench", label_set=version.label_set, archive=archive, user=staff
        )
        started = time.perf_counter()
        services.evaluation_set_import_run(set_id=evaluation_set.pk)
        imported = time.perf_counter() - started
        evaluation_set = EvaluationSet.objects.get(pk=evaluation_set.pk)
        assert evaluation_set.added == args.photos, (evaluation_set.added, evaluation_set.problems)

        baseline_seconds(version, evaluation_set)  # warm: the session and the file cache
        baselines, runs = [], []
        for _round in range(args.rounds):  # interleaved: noise hits both alike
            baselines.append(baseline_seconds(version, evaluation_set))
            evaluation = Evaluation.objects.create(
                version=version, evaluation_set=evaluation_set, requested_by=staff
            )
            started = time.perf_counter()
            services.evaluation_run(evaluation_id=evaluation.pk)
            runs.append(time.perf_counter() - started)
            evaluation.refresh_from_db()
            assert evaluation.status == "succeeded", evaluation.error
        baseline, evaluated = min(baselines), min(runs)
        report = evaluation.report
        assert report["photos"] == args.photos
        n = args.photos
        scores = (
            f"top-1 {report['accuracy']:.1%}, top-5 {report['top5_accuracy']:.1%}, "
            f"ECE {report['calibration']['ece']:.3f}"
        )
        print(f"import:     {imported:6.1f} s = {n / imported:6.1f} photos/s (checked, stored)")
        print(f"evaluation: {evaluated:6.1f} s = {n / evaluated:6.1f} photos/s ({scores})")
        print(f"baseline:   {baseline:6.1f} s = {n / baseline:6.1f} photos/s (bare engine)")
        print(f"evaluation / baseline: {evaluated / baseline:.2f}x")


if __name__ == "__main__":
    main()
