from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken, User
from accounts.scopes import Scope, request_token


class TokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))

    class Meta:
        model = ApiToken
        fields = ["name", "key_prefix", "scopes", "classifier", "expires_at", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    token = serializers.SerializerMethodField(
        help_text=_(
            "The token this request came with: what it may do, the classifier it is limited "
            "to (null: any) and when it expires (null: never). Null for a browser session."
        )
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "date_joined", "share_for_model_tests", "token"]
        read_only_fields = fields

    @extend_schema_field(TokenSerializer(allow_null=True))
    def get_token(self, obj: User) -> dict | None:
        token = request_token(self.context["request"])
        return TokenSerializer(token).data if token is not None else None
