"""Training a custom classifier on real images, phase by phase.

    .venv/bin/python bench/training.py [--classes 10] [--per-class 20]

The images are scikit-learn's handwritten digits (1,797 real 8x8 scans that
ship inside the package), upscaled to photos of 128x128. A classifier with
``--classes`` digits and ``--per-class`` examples each goes through the same
service code a user's upload does (examples stored, a training run, the worker
function), in a throw-away SQLite database. Printed: seconds per phase, the
validation accuracy the run reports, the accuracy of the exported ONNX model on
digits it never saw, and two ratios measured in the same process: the compiled
training loop against Keras ``fit`` on the same features, and ONNX Runtime
embedding against Keras ``predict`` on the same images.
"""

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def digit_images(classes: int, per_class: int, held_out: int) -> tuple[dict, list]:
    """({digit name: [jpeg bytes]}, [(digit index, jpeg bytes)] never trained on)."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    train: dict[str, list[bytes]] = {}
    test: list[tuple[int, bytes]] = []
    for digit in range(classes):
        rows = np.flatnonzero(digits.target == digit)
        for position, row in enumerate(rows[: per_class + held_out]):
            pixels = (255 - digits.images[row] * 255 / 16).astype(np.uint8)  # dark ink on white
            image = Image.fromarray(pixels).resize((128, 128), Image.Resampling.BICUBIC)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=92)
            if position < per_class:
                train.setdefault(str(digit), []).append(buffer.getvalue())
            else:
                test.append((digit, buffer.getvalue()))
    return train, test


def trust_report(classifier, version, metrics: dict, test: list) -> None:
    """The cost of the checks and the calibration against the head training in
    the same run, and what "none of these" does on digits never seen and on
    photos of something else (scikit-image's)."""
    from importlib.resources import files

    import numpy as np

    from classification import inference
    from core.images import image_to_tensor
    from training import selectors

    started = time.perf_counter()
    found = selectors.classifier_checks(classifier=classifier)
    checks_seconds = time.perf_counter() - started
    seconds, fit = metrics["seconds"], metrics["temperature"]
    training = seconds["training"]
    print(
        f"\nchecks on {found['looked']} cached examples: {checks_seconds:.3f} s "
        f"({found['count']} findings) = {checks_seconds / training:.3f}x the head training"
    )
    print(
        f"calibration: {seconds['calibrating']:.3f} s = {seconds['calibrating'] / training:.3f}x "
        f"the head training; temperature {fit['temperature']}, "
        f"ECE {fit['ece_before']:.3f} -> {fit['ece_after']:.3f}"
    )
    curve = metrics["learning_curve"]
    print(
        f"learning curve: {seconds['learning_curve']:.3f} s = "
        f"{seconds['learning_curve'] / training:.2f}x the head training; "
        f"more per class to halve the mistakes: {curve['more_per_class'] or curve['reason']}"
    )
    spec = inference.preprocessing_for(version)
    limit = version.distance_threshold

    def turned_away(images: list[bytes]) -> float:
        batch = np.concatenate([image_to_tensor(data, spec) for data in images])
        _probabilities, distances = inference.run_with_distances(version, batch)
        return float((distances > limit).mean())

    unlike = [
        (files("skimage") / "data" / name).read_bytes()
        for name in ("coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg", "camera.png")
    ]
    print(
        f'"none of these" beyond {limit}: {turned_away([d for _n, d in test]):.1%} of '
        f"{len(test)} digits never seen, {turned_away(unlike):.0%} of {len(unlike)} photos "
        "of something else"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--held-out", type=int, default=30, help="test digits per class")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bench-training-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/db.sqlite3"
    os.environ["DJANGO_MEDIA_ROOT"] = f"{workdir}/media"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("bootstrap_models", stdout=io.StringIO())
    seconds = time.perf_counter() - started
    print(f"setup: pretrained model converted and registered in {seconds:.1f} s")

    import numpy as np

    from accounts.models import User
    from classification import inference
    from core.images import Preprocessing, image_to_tensor
    from core.uploads import Upload
    from training import engine, services

    train, test = digit_images(args.classes, args.per_class, args.held_out)
    user = User.objects.create_user(email="bench@example.com")
    classifier = services.classifier_create(user=user, name="digits", class_names=list(train))
    started = time.perf_counter()
    for name, images in train.items():  # one class a request, as the page sends them
        services.examples_add(
            classifier=classifier,
            uploads_by_class={
                name: [Upload(f"{name}-{i}.jpg", data) for i, data in enumerate(images)]
            },
        )
    upload_seconds = time.perf_counter() - started

    run, _created = services.training_start(classifier=classifier, user=user)
    started = time.perf_counter()
    run = services.training_run(run_id=run.pk)
    total = time.perf_counter() - started
    if run.status != "succeeded":
        sys.exit(f"training {run.status}: {run.error}")
    metrics = run.metrics

    version = run.model_version
    right = sum(
        inference.classify(data, version, top_k=1)[0].index == digit for digit, data in test
    )

    print(
        f"\n{args.classes} classes x {args.per_class} examples "
        f"({metrics['train_examples']} to learn from, {metrics['validation_examples']} held out)"
    )
    print(f"  storing the examples          {upload_seconds:6.2f} s")
    for phase, seconds in metrics["seconds"].items():
        print(f"  {phase:<30}{seconds:6.2f} s")
    print(f"  whole run (incl. imports)     {total:6.2f} s   ({metrics['epochs']} epochs)")
    print(f"validation accuracy (the run's own): {metrics['accuracy']:.3f}")
    print(f"accuracy on {len(test)} digits never seen:  {right / len(test):.3f}")

    trust_report(classifier, version, metrics, test)

    # Baselines, same process, same data.
    from training.models import Example

    vectors = {e.pk: engine.from_bytes(e.embedding) for e in Example.objects.all()}
    ids = [i for group in run.snapshot["examples"] for i in group]
    labels = np.concatenate([[n] * len(g) for n, g in enumerate(run.snapshot["examples"])])
    both = np.stack([vectors[i] for i in ids])
    train_idx, val_idx = engine.stratified_split(labels, seed=classifier.pk)
    x_train = both[train_idx].reshape(-1, both.shape[2])
    y_train = np.repeat(labels[train_idx], 2)
    x_val, y_val = both[val_idx, 0], labels[val_idx]
    epochs = metrics["epochs"]

    started = time.perf_counter()
    engine.train_head(
        x_train, y_train, x_val, y_val, num_classes=args.classes, max_epochs=epochs, patience=10**6
    )
    ours = time.perf_counter() - started
    import keras

    head = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.GaussianNoise(0.1),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(args.classes, activation="softmax"),
        ]
    )
    head.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    started = time.perf_counter()
    head.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=32, verbose=0
    )
    naive = time.perf_counter() - started
    print(
        f"\nhead training, {epochs} epochs: compiled loop {ours:.2f} s, Keras fit {naive:.2f} s "
        f"-> {naive / ours:.1f}x faster"
    )

    backbone = version.base_version
    spec = Preprocessing.from_spec(backbone.preprocessing, size=backbone.input_size)
    images = [data for group in train.values() for data in group][:64]
    batch = np.concatenate([image_to_tensor(data, spec) for data in images])
    with backbone.onnx_file.open("rb") as handle:
        embedder = engine.Embedder(handle.read())
    embedder(batch[:2])
    started = time.perf_counter()
    for start in range(0, len(batch), 16):
        embedder(batch[start : start + 16])
    ort_seconds = time.perf_counter() - started
    model = keras.models.load_model(backbone.file.path, compile=False)
    features = keras.Model(model.inputs, model.layers[-1].input)
    features.predict(batch[:2], verbose=0)
    started = time.perf_counter()
    for start in range(0, len(batch), 16):
        chunk = batch[start : start + 16]
        features.predict(np.concatenate([chunk, chunk[:, :, ::-1, :]]), verbose=0)
    keras_seconds = time.perf_counter() - started
    print(
        f"embedding {len(batch)} images (+ mirrored): ONNX Runtime {ort_seconds:.2f} s, "
        f"Keras predict {keras_seconds:.2f} s -> {keras_seconds / ort_seconds:.1f}x faster"
    )


if __name__ == "__main__":
    main()
