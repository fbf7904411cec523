"""The serving path of POST /api/v1/classifications/: what one request costs
the database and the cache, how a kept JPEG is stored, and the engine's
one boundary (classification/inference.py)."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from accounts.services import api_token_create, api_token_revoke
from classification import inference
from classification.models import Image, Prediction
from core.images import jpeg_without_metadata
from core.ratelimits import UserRateThrottle
from tests.classification.images import encode
from tests.conftest import photo

pytestmark = pytest.mark.django_db
URL = "/api/v1/classifications/"


def _photo_jpeg(**params) -> bytes:
    picture = PILImage.open(io.BytesIO(photo("chelsea.png"))).convert("RGB")
    return encode(picture, "JPEG", quality=90, **params)


def _gps_exif(orientation: int = 1) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "CameraMaker"
    exif.get_ifd(0x8825)[2] = (40.0, 26.0, 46.0)  # GPS latitude
    return exif.tobytes()


def _post(api_client, key: str, data: bytes, **fields):
    return api_client.post(
        URL,
        {"file": [SimpleUploadedFile("cat.jpg", data)], **fields},
        format="multipart",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def _writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT", "BEGIN", "COMMIT")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


def test_a_token_request_with_store_false_is_one_insert(api_client, user, imagenet_model):
    _token, key = api_token_create(user=user, name="bench")
    jpeg = _photo_jpeg()
    assert _post(api_client, key, jpeg, store="false").status_code == 200  # caches warm
    with CaptureQueriesContext(connection) as queries:
        response = _post(api_client, key, jpeg, store="false")
    assert response.status_code == 200, response.json()
    writes = _writes(queries.captured_queries)
    assert len(writes) == 1 and 'INSERT INTO "classification_prediction"' in writes[0]
    # The token came from the cache: nothing read from the token table.
    assert not [q for q in queries.captured_queries if "accounts_apitoken" in q["sql"]]
    assert Prediction.objects.count() == 2


def test_kept_images_are_one_insert_per_table(api_client, user, imagenet_model):
    _token, key = api_token_create(user=user, name="bench")
    jpeg = _photo_jpeg()
    with CaptureQueriesContext(connection) as queries:
        response = _post(api_client, key, jpeg)
    assert response.status_code == 201, response.json()
    inserts = [w for w in _writes(queries.captured_queries) if w.startswith("INSERT")]
    assert [w.split()[2] for w in inserts] == [
        '"classification_image"',
        '"classification_prediction"',
    ]


def test_a_revoked_token_stops_at_once_though_it_was_cached(api_client, user, imagenet_model):
    token, key = api_token_create(user=user, name="bench")
    jpeg = _photo_jpeg()
    assert _post(api_client, key, jpeg, store="false").status_code == 200
    api_token_revoke(user=user, token_id=token.pk)
    assert _post(api_client, key, jpeg, store="false").status_code == 401


def test_a_deactivated_users_cached_token_stops_at_once(api_client, user, imagenet_model):
    _token, key = api_token_create(user=user, name="bench")
    jpeg = _photo_jpeg()
    assert _post(api_client, key, jpeg, store="false").status_code == 200
    user.is_active = False
    user.save()
    assert _post(api_client, key, jpeg, store="false").status_code == 401


def test_a_kept_jpeg_is_stored_as_it_came_without_its_metadata(api_client, user, imagenet_model):
    _token, key = api_token_create(user=user, name="bench")
    jpeg = _photo_jpeg(exif=_gps_exif())
    assert PILImage.open(io.BytesIO(jpeg)).getexif()  # the upload carries EXIF with GPS
    assert _post(api_client, key, jpeg).status_code == 201
    image = Image.objects.get()
    with image.file.open("rb") as handle:
        stored = handle.read()
    kept = PILImage.open(io.BytesIO(stored))
    assert not kept.getexif() and b"CameraMaker" not in stored
    # Not re-encoded: the very same pixels as the upload.
    original = np.asarray(PILImage.open(io.BytesIO(jpeg)).convert("RGB"))
    assert np.array_equal(np.asarray(kept.convert("RGB")), original)
    assert (image.width, image.height) == kept.size


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def test_what_follows_the_end_of_a_kept_jpeg_is_not_stored(api_client, user, imagenet_model):
    # A phone's picture with a second JPEG (its own EXIF with GPS) appended.
    first = _photo_jpeg()
    appended = first + _photo_jpeg(exif=_gps_exif(), progressive=True)
    assert b"CameraMaker" in appended and PILImage.open(io.BytesIO(appended)).format == "JPEG"
    _token, key = api_token_create(user=user, name="bench")
    assert _post(api_client, key, appended).status_code == 201
    with Image.objects.get().file.open("rb") as handle:
        stored = handle.read()
    assert stored == first  # Pillow wrote no metadata: the first picture, byte for byte
    assert b"CameraMaker" not in stored
    original = np.asarray(PILImage.open(io.BytesIO(appended)).convert("RGB"))
    assert np.array_equal(np.asarray(PILImage.open(io.BytesIO(stored)).convert("RGB")), original)


def test_segments_between_the_scans_of_a_progressive_jpeg_are_not_kept():
    progressive = _photo_jpeg(progressive=True)
    # After the first scan: a comment and an EXIF segment, then the next scan.
    second_scan = progressive.index(b"\xff\xda", progressive.index(b"\xff\xda") + 2)
    extra = _segment(0xFE, b"secret comment") + _segment(0xE1, b"Exif\0\0" + _gps_exif())
    spliced = progressive[:second_scan] + extra + progressive[second_scan:]
    pixels = np.asarray(PILImage.open(io.BytesIO(progressive)).convert("RGB"))
    assert np.array_equal(np.asarray(PILImage.open(io.BytesIO(spliced)).convert("RGB")), pixels)
    kept = jpeg_without_metadata(spliced, max_side=4096)
    assert kept == progressive
    assert b"secret comment" not in kept and b"CameraMaker" not in kept
    # Restart markers and stuffed bytes are picture data, kept as they are.
    restarts = _photo_jpeg(progressive=True, restart_marker_blocks=1)
    assert jpeg_without_metadata(restarts + b"trailing", max_side=4096) == restarts


def test_a_jpeg_not_parsed_to_its_end_is_re_encoded():
    jpeg = _photo_jpeg()
    assert jpeg_without_metadata(jpeg[:-2], max_side=4096) is None  # no end of image
    # An unexpected marker between scans (a second frame header).
    frame = jpeg.index(b"\xff\xc0")
    sof = jpeg[frame : frame + 2 + int.from_bytes(jpeg[frame + 2 : frame + 4], "big")]
    end = jpeg.rindex(b"\xff\xd9")
    assert jpeg_without_metadata(jpeg[:end] + sof + jpeg[end:], max_side=4096) is None


def test_jpegs_that_must_be_re_encoded_are_not_kept_as_they_came():
    assert jpeg_without_metadata(_photo_jpeg(), max_side=4096) is not None
    turned = _photo_jpeg(exif=_gps_exif(orientation=6))
    assert jpeg_without_metadata(turned, max_side=4096) is None  # turned by its orientation
    assert jpeg_without_metadata(_photo_jpeg(), max_side=100) is None  # too large
    assert jpeg_without_metadata(photo("chelsea.png"), max_side=4096) is None  # not a JPEG
    truncated = _photo_jpeg(exif=_gps_exif())[:300]
    assert jpeg_without_metadata(truncated, max_side=4096) is None


def test_the_api_throttle_counts_in_a_fixed_window(api_client, user, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
    api_client.force_authenticate(user)
    codes = [api_client.get("/api/v1/me/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = api_client.get("/api/v1/me/")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_engine_stacks_tensors_and_names_each_row(imagenet_model):
    tensors = [
        inference.tensor(inference.decode(photo(name), imagenet_model), imagenet_model)
        for name in ("coffee.png", "chelsea.png")
    ]
    probabilities = inference.run(imagenet_model, tensors)
    assert probabilities.shape == (2, 1000)
    first, second = inference.rank_all(probabilities, imagenet_model, top_k=3, language="en")
    assert first[0].key == "n07920052" and len(second) == 3  # espresso
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_the_served_file_is_chosen_in_one_place(imagenet_model, monkeypatch):
    """``session_source`` decides which file serves a version (the int8 twin
    plugs in there): a file that does not match its checksum is refused."""
    inference.sessions.clear()
    source = inference.session_source(imagenet_model)
    assert source.precision == "fp32" and source.sha256 == imagenet_model.onnx_sha256
    monkeypatch.setattr(
        inference,
        "session_source",
        lambda version: inference.SessionSource(file=version.file, sha256=source.sha256),
    )
    with pytest.raises(Exception) as refused:
        inference.classify(photo("coffee.png"), imagenet_model)
    assert getattr(refused.value, "code", "") == "model_corrupt"
    inference.sessions.clear()


def test_a_version_not_ready_is_refused_with_one_message(imagenet_model):
    imagenet_model.status = type(imagenet_model).Status.VALIDATING
    with pytest.raises(Exception) as refused:
        inference.run(imagenet_model, np.zeros((1, 224, 224, 3), dtype=np.float32))
    assert refused.value.code == "model_not_ready" and refused.value.status == 409
    assert str(refused.value.message) == str(inference.model_not_ready().message)


def test_requests_at_the_same_time_share_runs_and_each_gets_its_own_answer(imagenet_model):
    import threading

    names = ["coffee.png", "chelsea.png", "camera.png", "astronaut.png"] * 3
    tensors = [
        inference.tensor(inference.decode(photo(name), imagenet_model), imagenet_model)
        for name in names
    ]
    alone = [inference.run(imagenet_model, tensor)[0] for tensor in tensors]
    loaded = inference.sessions.get(imagenet_model)
    sizes: list[int] = []
    session_run = loaded.runs.session.run

    class Counting:  # the real session, counting the images of each run
        def run(self, names_, feeds):
            sizes.append(len(next(iter(feeds.values()))))
            return session_run(names_, feeds)

    loaded.runs.session = Counting()
    together: list = [None] * len(tensors)
    start = threading.Barrier(len(tensors))

    def classify(number: int) -> None:
        start.wait()
        together[number] = inference.run(imagenet_model, tensors[number])[0]

    try:
        threads = [threading.Thread(target=classify, args=(n,)) for n in range(len(tensors))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        loaded.runs.session = loaded.session
    assert sum(sizes) == len(tensors)
    for mine, reference in zip(together, alone, strict=True):
        assert np.allclose(mine, reference, atol=1e-5)


def test_a_bad_request_in_a_shared_run_fails_alone(imagenet_model):
    import threading

    names = ["coffee.png", "chelsea.png", "camera.png", "astronaut.png"]
    good = [
        inference.tensor(inference.decode(photo(name), imagenet_model), imagenet_model)
        for name in names
    ]
    loaded = inference.sessions.get(imagenet_model)
    alone = [loaded.session.run(None, {loaded.input_name: tensor})[0] for tensor in good]
    poisoned = np.full_like(good[0], np.nan)  # like the others, but its run fails
    bad = {
        "shape": good[0][:, :200],
        "dtype": good[0].astype(np.float64),
        "poisoned": poisoned,
    }
    submitted = [*good, *bad.values()]
    queued = threading.Event()

    class Gated:  # the real session; its first run waits until every request waits too
        first = True

        def run(self, names_, feeds):
            batch = next(iter(feeds.values()))
            if Gated.first:
                Gated.first = False
                queued.wait()
            if np.isnan(batch).any():
                raise RuntimeError("the model refused this input")
            return loaded.session.run(names_, feeds)

    shared = inference.SharedRuns(Gated(), loaded.input_name)
    answers: dict[int, object] = {}

    def submit(number: int, tensor) -> None:
        try:
            answers[number] = shared.run(tensor)[0]
        except Exception as error:
            answers[number] = error

    opener = threading.Thread(target=submit, args=(-1, good[0]))
    opener.start()  # runs alone, holding the model while the others line up
    threads = [threading.Thread(target=submit, args=item) for item in enumerate(submitted)]
    for thread in threads:
        thread.start()
    while len(shared._queue) < len(submitted) and any(t.is_alive() for t in threads):
        threading.Event().wait(0.01)
    lined_up = len(shared._queue)
    queued.set()
    for thread in [opener, *threads]:
        thread.join()
    assert lined_up == len(submitted)  # they all waited for the same turn
    assert np.allclose(answers[-1], alone[0], atol=1e-5)
    for number, reference in enumerate(alone):
        assert np.allclose(answers[number], reference, atol=1e-5), answers[number]
    errors = [answers[len(good) + number] for number in range(len(bad))]
    assert all(isinstance(error, Exception) for error in errors)
    assert "refused" in str(errors[2])
    assert len({id(error) for error in errors}) == len(errors)  # each its own error
