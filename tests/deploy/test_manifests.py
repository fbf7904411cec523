"""The Kubernetes manifests: valid against the API schemas (kubernetes-validate,
offline), probes on the health endpoints, and only settings the app reads."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))


def _documents():
    for path in MANIFESTS:
        if path.name != "kustomization.yaml":
            yield from (d for d in yaml.safe_load_all(path.read_text()) if d)


def test_manifests_validate_against_the_kubernetes_schemas():
    tool = Path(sys.executable).parent / "kubernetes-validate"
    files = [str(p) for p in MANIFESTS if p.name != "kustomization.yaml"]
    result = subprocess.run(
        [str(tool), "--strict", "--quiet", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_is_there_with_probes_and_autoscaling():
    docs = list(_documents())
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {
        "picsort-web",
        "picsort-worker",
        "picsort-training-worker",
        "picsort-sweeper",
    }
    web = deployments["picsort-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    scaled = {
        d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert {"picsort-web", "picsort-worker"} <= scaled
    assert any(d["kind"] == "Service" for d in docs)
    kustomization = yaml.safe_load((ROOT / "deploy/kubernetes/kustomization.yaml").read_text())
    assert all((ROOT / "deploy/kubernetes" / name).exists() for name in kustomization["resources"])


def test_configured_variables_are_documented():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for doc in _documents():
        if doc["kind"] in ("ConfigMap", "Secret"):
            keys = set(doc.get("data", {})) | set(doc.get("stringData", {}))
            assert keys <= documented | {"DJANGO_SETTINGS_MODULE"}, keys - documented
