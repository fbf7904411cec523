"""checkov policies for compose.yaml (checkov has no compose framework of its
own; these run on its generic YAML one): `make docker-lint`."""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
_REFERENCE = re.compile(r"^\$\{[A-Z0-9_]+(:?[?-].*)?\}$")


def _services(conf: dict) -> dict:
    return {name: spec for name, spec in conf.items() if not name.startswith("__")}


def _image_default(image: str) -> str:
    """`${PICSORT_IMAGE:-picsort:local}` -> `picsort:local`."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:?-(.+)\}", image)
    return match.group(1) if match else image


class _ComposeCheck(BaseYamlCheck):
    def __init__(self, name: str, id: str) -> None:
        super().__init__(
            name=name,
            id=id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_entities=["services"],
            block_type=BlockType.OBJECT,
        )

    def scan_entity_conf(self, conf, entity_type):
        bad = [name for name, spec in _services(conf).items() if not self.ok(spec)]
        self.details = bad
        return CheckResult.FAILED if bad else CheckResult.PASSED


class PinnedImages(_ComposeCheck):
    def __init__(self) -> None:
        super().__init__("Compose images name a tag, never latest", "CKV_PICSORT_1")

    def ok(self, spec: dict) -> bool:
        image = _image_default(str(spec.get("image", "")))
        name, _, tag = image.rpartition(":")
        return bool(name) and "/" not in tag and tag not in ("", "latest")


class NoHostPrivileges(_ComposeCheck):
    def __init__(self) -> None:
        super().__init__(
            "Compose services: no privileged mode, host namespaces or added capabilities",
            "CKV_PICSORT_2",
        )

    def ok(self, spec: dict) -> bool:
        return not (
            spec.get("privileged")
            or spec.get("cap_add")
            or spec.get("network_mode") == "host"
            or spec.get("pid") == "host"
            or spec.get("ipc") == "host"
            or any("docker.sock" in str(volume) for volume in spec.get("volumes", []))
        )


class NoSecretLiterals(_ComposeCheck):
    def __init__(self) -> None:
        super().__init__(
            "Compose secrets come from .env, never written in the file", "CKV_PICSORT_3"
        )

    def ok(self, spec: dict) -> bool:
        environment = spec.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        return all(
            _REFERENCE.match(str(value)) or not value
            for key, value in environment.items()
            if not key.startswith("__") and _SECRET_NAME.search(key)
        )


check_pinned = PinnedImages()
check_privileges = NoHostPrivileges()
check_secrets = NoSecretLiterals()
