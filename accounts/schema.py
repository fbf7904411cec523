"""How the OpenAPI schema describes personal API tokens and their scopes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from accounts.scopes import ANY_SCOPE, Scope, declared_scopes


def _scopes_described() -> str:
    return "\n".join(f"- `{scope.value}`: {scope.label}" for scope in Scope)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from your profile page: "
            "Authorization: Bearer pst_... A token holds scopes (each operation names the "
            "one it needs, in `x-token-scopes`; a token without it is answered 403 with "
            "code `missing_scope` and the scope), may be limited to one classifier "
            "(403 `classifier_not_allowed` elsewhere) and may expire (401 `token_expired`). "
            "A browser session is not limited by scopes.\n\n" + _scopes_described(),
        }


class ScopedAutoSchema(AutoSchema):
    """Every operation says which token scope it needs (one of, when several)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        scopes = declared_scopes(self.view, self.method)
        if operation is None or not scopes:
            return operation
        if ANY_SCOPE in scopes:
            line = "Token scope: any (every valid token)."
            operation["x-token-scopes"] = []
        else:
            line = "Token scope: " + " or ".join(f"`{scope}`" for scope in scopes) + "."
            operation["x-token-scopes"] = list(scopes)
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{line}" if description else line
        return operation
