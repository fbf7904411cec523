"""Every operation of the API schema has a method in picsort.Client: a new
endpoint without one fails here until the client learns it (or it is listed,
with the reason, as deliberately left out)."""

import pytest
from picsort import Client

# operationId -> Client method.
METHODS = {
    "me_retrieve": "me",
    "classifications_list": "history",
    "classifications_create": "classify",
    "classifications_retrieve": "classification",
    "classifications_destroy": "classification_delete",
    "classifications_preview_create": "preview",
    "classifications_feedback_create": "feedback_send",
    "batches_list": "batches",
    "batches_create": "batch_create",
    "batches_retrieve": "batch",
    "batches_results_list": "batch_results",
    "batches_sorted_zip": "batch_sorted_zip",
    "classifiers_list": "classifiers",
    "classifiers_create": "classifier_create",
    "classifiers_retrieve": "classifier",
    "classifiers_partial_update": "classifier_update",
    "classifiers_destroy": "classifier_delete",
    "classifiers_examples_create": "examples_import",  # and examples_add (a few files)
    "classifiers_imports_retrieve": "example_import",
    "classifiers_train_create": "train",
    "classifiers_versions_list": "classifier_versions",
    "classifiers_checks_retrieve": "classifier_checks",
    "classifiers_checks_create": "classifier_checks",  # look=True
    "training_runs_retrieve": "training_run",
    "training_runs_cancel_create": "training_run_cancel",
    "models_list": "models",
    "models_create": "model_upload",
    "models_retrieve": "model",
    "models_download_retrieve": "model_download",
    "models_label_diff_retrieve": "model_label_diff",
    "aliases_list": "aliases",
    "aliases_retrieve": "alias",
    "aliases_activate_create": "alias_activate",
    "aliases_rollback_create": "alias_rollback",
    "label_sets_list": "label_sets",
    "label_sets_create": "label_set_create",
    "label_sets_retrieve": "label_set",
    "label_sets_labels_list": "labels",
    "evaluation_sets_list": "evaluation_sets",
    "evaluation_sets_create": "evaluation_set_create",
    "evaluation_sets_retrieve": "evaluation_set",
    "evaluation_sets_destroy": "evaluation_set_delete",
    "evaluations_list": "evaluations",
    "evaluations_create": "evaluation_create",
    "evaluations_retrieve": "evaluation",
    "evaluations_compare_retrieve": "evaluation_compare",
    "replays_list": "replays",
    "replays_create": "replay_create",
    "replays_retrieve": "replay",
    "replays_approve_create": "replay_approve",
    "replays_cancel_create": "replay_cancel",
    "feedback_list": "feedback_inbox",
    "feedback_disagreement_list": "feedback_disagreement",
    "webhooks_list": "webhooks",
    "webhooks_create": "webhook_create",
    "webhooks_retrieve": "webhook",
    "webhooks_partial_update": "webhook_update",
    "webhooks_destroy": "webhook_delete",
    "webhooks_deliveries_list": "webhook_deliveries",
    "webhooks_test_create": "webhook_test",
}
# Operations the client leaves out on purpose, with the reason.
UNCOVERED: dict[str, str] = {}


@pytest.mark.django_db(transaction=True)
def test_every_operation_in_the_live_schema_has_a_client_method(live_server, token):
    with Client(live_server.url, token) as client:
        schema = client.transport.request("GET", "/api/schema/", params={"format": "json"}).json()
    operations = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for method, operation in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert len(operations) > 40
    missing = sorted(operations - set(METHODS) - set(UNCOVERED))
    assert missing == [], f"operations without a picsort.Client method: {missing}"
    for operation_id, name in METHODS.items():
        assert callable(getattr(Client, name, None)), f"{operation_id}: Client.{name} is missing"
    assert not set(METHODS) & set(UNCOVERED)


def test_each_operation_documents_one_body_or_optional_alternatives():
    """Generators stumble on a body offered in several content types: a body
    the same in each is documented once; classify's two real alternatives
    (files, or JSON) are kept, marked optional (see core/schema.py)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    several = {}
    for methods in schema["paths"].values():
        for method, operation in methods.items():
            body = operation.get("requestBody") if method in ("post", "put", "patch") else None
            if body and len(body["content"]) > 1:
                several[operation["operationId"]] = (set(body["content"]), body.get("required"))
    alternatives = ({"multipart/form-data", "application/json"}, False)
    assert several == {
        "classifications_create": alternatives,
        "classifications_preview_create": alternatives,
    }
    activate = schema["paths"]["/api/v1/aliases/{name}/activate/"]["post"]["requestBody"]
    assert list(activate["content"]) == ["application/json"] and activate["required"]
