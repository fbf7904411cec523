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
