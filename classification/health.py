"""Readiness of the classification engine, checked by ``/readyz`` (registered
with ``core.health`` from ``ClassificationConfig.ready``)."""


def default_model_check() -> str:
    """The default model loads in this process; its name, or an error."""
    from classification import inference
    from models_registry.selectors import model_version_for_alias

    version = model_version_for_alias(alias="default")
    if version is None:
        raise LookupError("no default model")
    inference.sessions.get(version)
    return str(version)
