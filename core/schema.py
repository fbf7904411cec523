"""OpenAPI: every operation documents the errors it can answer, in the one
shape the API uses (``{"error": {"code", "message", "details"}}``)."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

ERRORS = {
    "400": "The request is invalid (the message says why).",
    "401": "No or invalid credentials.",
    "403": "Not allowed for this user.",
    "404": "Not found, or not yours.",
    "409": "Conflicts with the current state (for example: not ready yet).",
    "429": "Too many requests; retry after the Retry-After header.",
    "503": "Briefly unavailable (database or storage); retry shortly.",
}
UPLOAD_ERRORS = {
    "413": "The upload is too large.",
    "507": "No room to store the upload; nothing was saved.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = dict(ERRORS)
            if method in ("post", "put", "patch"):
                errors.update(UPLOAD_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result


# The one content type kept for a body that every content type shares.
PREFERRED_TYPES = ("application/json", "multipart/form-data")


def one_body_per_operation(result, generator, request, public):
    """Keep request bodies friendly to client generators.

    DRF documents a body once per parser (JSON, form, multipart) even when it is
    the same; generators then offer three identical types and send the last
    one. A body that is the same in every content type is documented once: as
    JSON when the view takes JSON, else as multipart (uploads). An operation
    that really takes different bodies (classify: files, or JSON with base64)
    keeps them, marked optional: openapi-python-client 0.29 leaves ``Unset``
    undefined for a required body offered in several types, and an empty
    request is answered 400 in the error shape anyway.
    """
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            body = operation.get("requestBody") if method in ("post", "put", "patch") else None
            if not body or len(body.get("content", {})) < 2:
                continue
            content = body["content"]
            if len({repr(media["schema"]) for media in content.values()}) == 1:
                keep = next((t for t in PREFERRED_TYPES if t in content), next(iter(content)))
                body["content"] = {keep: content[keep]}
            else:
                body["required"] = False
    return result
