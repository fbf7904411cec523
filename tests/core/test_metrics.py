"""/metrics: Prometheus text, database numbers, and closed unless configured."""

import pytest

from classification import services
from tests.conftest import photo

pytestmark = pytest.mark.django_db


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_with_the_token(client, settings, user, imagenet_model):
    settings.METRICS_TOKEN = "s3cret-scrape"
    services.classify_uploads(
        user=user, uploads=[services.Upload("c.png", photo("coffee.png"))], version=imagenet_model
    )
    services.batch_job_create(
        user=user, uploads=[services.Upload("c.png", photo("coffee.png"))], version=imagenet_model
    )
    client.get("/")  # one request to time
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'picsort_predictions{model="EfficientNet-Lite0 v1"} 1.0' in text
    assert 'picsort_jobs{kind="batchjob",status="queued"} 1.0' in text  # queued after commit
    assert (
        'picsort_http_request_duration_seconds_count{method="GET",status="200",view="core:home"}'
        in text
    )
    assert "picsort_task_queue_depth" in text and "picsort_job_heartbeat_age_seconds" in text


def test_staff_may_read_metrics_in_a_browser(client, settings):
    from tests.accounts.factories import UserFactory

    settings.METRICS_TOKEN = "x"
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 200
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 404


def test_every_kind_of_job_in_the_metrics(client, settings, user):
    from django.utils import timezone

    from training.models import Classifier, TrainingRun

    settings.METRICS_TOKEN = "s3cret-scrape"
    classifier = Classifier.objects.create(owner=user, name="c")
    TrainingRun.objects.create(
        classifier=classifier,
        user=user,
        number=1,
        status="running",
        worker="host:42",
        lease_expires_at=timezone.now()
        + timezone.timedelta(seconds=settings.TRAINING_LEASE_SECONDS - 5),
    )
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape").content.decode()
    assert 'picsort_jobs{kind="trainingrun",status="running"} 1.0' in text
    line = next(x for x in text.splitlines() if x.startswith("picsort_job_heartbeat_age"))
    assert 'kind="trainingrun",worker="host:42"' in line and 4 <= float(line.split()[-1]) <= 7


def test_users_own_classifiers_are_counted_without_their_names(client, settings, user):
    from classification.models import Prediction
    from models_registry.models import ModelVersion
    from tests.models_registry.factories import LabelSetFactory

    settings.METRICS_TOKEN = "s3cret-scrape"
    label_set = LabelSetFactory(name="soils", owner=user)
    version = ModelVersion.objects.create(
        name="My secret soils",
        label_set=label_set,
        source=ModelVersion.Source.TRAINING,
        status=ModelVersion.Status.READY,
        sha256="0" * 64,
        onnx_sha256="1" * 64,
        owner=user,
    )
    for _ in range(2):
        Prediction.objects.create(
            user=user,
            model_version=version,
            label_set=label_set,
            results=[],
            top_key="cat",
            top_probability=0.9,
        )
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape").content.decode()
    assert "My secret soils" not in text
    assert 'picsort_predictions{model="users\' own classifiers"} 2.0' in text
