"""Unknown URLs: the API answers in its error shape, the site with its page;
and the schema documents the errors every operation can give."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_api_404_is_json_and_pages_404_is_html(client, user):
    response = client.get("/api/v1/classifiers/not-a-number/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    page = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 404 and "text/html" in page["Content-Type"]
    assert "Página no encontrada" in page.content.decode()


def test_schema_documents_error_responses(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    assert "Error" in schema["components"]["schemas"]
    post = schema["paths"]["/api/v1/classifications/"]["post"]["responses"]
    assert {"400", "401", "413", "429", "507"} <= set(post)
    get = schema["paths"]["/api/v1/classifiers/{id}/"]["get"]["responses"]
    assert "404" in get and "507" not in get
