from django.db.models import QuerySet

from accounts.models import ApiToken, User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("classifier").order_by("-created_at")


def api_token_for_key(*, user: User, key: str) -> ApiToken | None:
    return ApiToken.objects.filter(user=user, key_digest=ApiToken.digest(key)).first()
