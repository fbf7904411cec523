"""The Kubernetes manifests as `kubectl apply -k` would send them: valid
against the API schemas (kubernetes-validate, offline), images from a registry
with a fixed tag, migrations once per release, autoscalers that own the
replica count, probes and shutdown timings that fit gunicorn, and an Ingress
whose limits fit the upload limits. kubectl comes from .venv-checkov
(`make docker-lint` installs it) or PATH."""

import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))
GUNICORN = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))


def _kubectl() -> str:
    local = ROOT / ".venv-checkov" / "bin" / "kubectl"
    found = str(local) if local.exists() else shutil.which("kubectl")
    if not found:
        pytest.skip("needs kubectl (make docker-lint installs it into .venv-checkov)")
    return found


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(KUBERNETES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _pod_spec(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def _containers(doc: dict) -> list[dict]:
    spec = _pod_spec(doc)
    return spec.get("initContainers", []) + spec["containers"]


def test_manifests_validate_against_the_kubernetes_schemas():
    tool = Path(sys.executable).parent / "kubernetes-validate"
    files = [str(p) for p in MANIFESTS if p.name != "kustomization.yaml"]
    result = subprocess.run(
        [str(tool), "--strict", "--quiet", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_is_there_in_one_namespace(rendered):
    deployments = _by_kind(rendered, "Deployment")
    assert set(deployments) == {
        "picsort-web",
        "picsort-worker",
        "picsort-training-worker",
        "picsort-sweeper",
        "picsort-redis",
    }
    namespaced = [d for d in rendered if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"picsort"}
    assert "picsort-web" in _by_kind(rendered, "Service")


def test_images_come_from_a_registry_with_a_tag_that_never_moves(rendered):
    workloads = [d for d in rendered if d["kind"] in ("Deployment", "CronJob", "Job")]
    images = {c["image"] for d in workloads for c in _containers(d)}
    assert len(images) >= 3
    for image in images:
        host, _, rest = image.partition("/")
        assert "." in host or ":" in host, f"{image}: no registry (Docker Hub by default)"
        name, _, tag = rest.rpartition(":")
        assert "@sha256:" in image or (name and tag and tag != "latest"), image
    for doc in workloads:
        for container in _containers(doc):
            assert container.get("imagePullPolicy", "IfNotPresent") == "IfNotPresent"
    deployments = _by_kind(rendered, "Deployment")
    roles = {name: _containers(d)[0]["image"] for name, d in deployments.items()}
    # Batch workers and the sweeper need no TensorFlow: the small image.
    assert roles["picsort-worker"] == roles["picsort-web"] == roles["picsort-sweeper"]
    assert roles["picsort-training-worker"] != roles["picsort-web"]


def test_migrations_run_from_a_template_made_into_one_job_per_release(rendered):
    assert not _by_kind(rendered, "Job"), "a fixed Job cannot be re-run or change its image"
    template = _by_kind(rendered, "CronJob")["picsort-migrate"]
    assert template["spec"]["suspend"] is True
    job = template["spec"]["jobTemplate"]["spec"]
    command = " ".join(job["template"]["spec"]["containers"][0]["command"])
    assert "migrate --noinput" in command and "bootstrap_models" in command
    assert job["ttlSecondsAfterFinished"] > 0 and job["activeDeadlineSeconds"] >= 900
    readme = (ROOT / "README.md").read_text()
    assert "--from=cronjob/picsort-migrate" in readme


def test_autoscalers_own_the_replica_count_and_workers_follow_the_queue(rendered):
    deployments = _by_kind(rendered, "Deployment")
    autoscalers = _by_kind(rendered, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"picsort-web", "picsort-worker", "picsort-training-worker"}
    for name, hpa in autoscalers.items():
        assert "replicas" not in deployments[name]["spec"], name
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
    for name in ("picsort-worker", "picsort-training-worker"):
        command = _containers(deployments[name])[0]["command"]
        queues = set(command[command.index("--queue-name") + 1].split(","))
        (metric,) = autoscalers[name]["spec"]["metrics"]
        assert metric["type"] == "External", f"{name} must scale on its queue, not on CPU"
        assert metric["external"]["metric"]["name"] == "picsort_task_queue_depth"
        (selector,) = metric["external"]["metric"]["selector"]["matchExpressions"]
        assert selector["key"] == "queue" and set(selector["values"]) == queues


def test_web_probes_and_shutdown_fit_gunicorn(rendered):
    pod = _pod_spec(_by_kind(rendered, "Deployment")["picsort-web"])
    web = pod["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    pre_stop = web["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    # The pod is killed only after the preStop pause and gunicorn's graceful stop.
    assert pod["terminationGracePeriodSeconds"] > int(pre_stop[1]) + GUNICORN["graceful_timeout"]
    liveness = web["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60


def test_pods_run_as_the_image_user_with_a_read_only_root(rendered):
    uid = re.search(r"^USER (\d+):", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    for doc in rendered:
        name = doc["metadata"]["name"]
        if doc["kind"] not in ("Deployment", "CronJob") or name == "picsort-redis":
            continue
        pod = _pod_spec(doc)
        assert pod["securityContext"]["runAsUser"] == int(uid), doc["metadata"]["name"]
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True


def _megabytes(size: str) -> int:
    return int(size.rstrip("mM"))


def test_the_ingress_limits_fit_the_upload_limits(rendered):
    ingresses = _by_kind(rendered, "Ingress")
    main = ingresses["picsort"]["metadata"]["annotations"]
    models = ingresses["picsort-model-uploads"]["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    request_limit = (settings.UPLOAD_MAX_REQUEST_BYTES + 64 * 1024) / 2**20
    assert _megabytes(main[prefix + "proxy-body-size"]) >= request_limit
    assert _megabytes(models[prefix + "proxy-body-size"]) >= settings.MODEL_MAX_UPLOAD_BYTES / 2**20
    assert main[prefix + "proxy-request-buffering"] == "on"
    assert int(main[prefix + "proxy-read-timeout"]) >= 120


def test_cache_and_proxy_settings_reach_every_pod(rendered):
    config = _by_kind(rendered, "ConfigMap")["picsort"]["data"]
    assert config["DJANGO_CACHE_URL"].startswith("redis://picsort-redis:")
    assert config["DJANGO_TRUSTED_PROXY_COUNT"] == "1"
    secret = yaml.safe_load((KUBERNETES / "secret.example.yaml").read_text())["stringData"]
    assert (
        "@" in secret["DATABASE_URL"]
        and ":" not in secret["DATABASE_URL"].split("//")[1].split("@")[0]
    ), "the password goes in DJANGO_DATABASE_PASSWORD, not in the URL"


def test_configured_variables_are_documented(rendered):
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    secret = yaml.safe_load((KUBERNETES / "secret.example.yaml").read_text())
    for doc in [*rendered, secret]:
        if doc["kind"] in ("ConfigMap", "Secret"):
            keys = set(doc.get("data", {})) | set(doc.get("stringData", {}))
            assert keys <= documented | {"DJANGO_SETTINGS_MODULE"}, keys - documented


def test_the_first_step_brings_what_the_migration_job_needs_and_no_app(rendered):
    readme = (ROOT / "README.md").read_text()
    selector = re.search(r"-l '(app\.kubernetes\.io/component in \(([a-z,-]+)\))'", readme)
    assert selector, "the README applies settings and the template before the app"
    components = set(selector.group(2).split(","))
    first = [
        d
        for d in rendered
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") in components
    ]
    names = {(d["kind"], d["metadata"]["name"]) for d in first}
    assert {("Namespace", "picsort"), ("ConfigMap", "picsort"), ("CronJob", "picsort-migrate")} <= (
        names
    )
    template = _pod_spec(_by_kind(first, "CronJob")["picsort-migrate"])["containers"][0]
    sources = {next(iter(source.values()))["name"] for source in template["envFrom"]}
    assert sources == {"picsort"}  # the ConfigMap above and the Secret applied by hand
    assert not [name for kind, name in names if kind == "Deployment" and name != "picsort-redis"]
