from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csp import csp_override
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core.converters import IdConverter
from core.health import readyz
from core.metrics import metrics

register_converter(IdConverter, "id")

# The admin signs in through allauth, so its login is rate limited too.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Picsort administration")
admin.site.site_title = _("Picsort admin")
admin.site.index_title = _("Site administration")

# Swagger UI and Redoc set inline styles and Redoc runs a blob: worker; only
# these two pages get that allowance (scripts stay 'self').
docs_csp = csp_override(
    {
        **settings.SECURE_CSP,
        "style-src": ["'self'", "'unsafe-inline'"],
        "worker-src": ["'self'", "blob:"],
    }
)

urlpatterns = [
    path("", include("core.urls")),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # Browsers ask for /favicon.ico on pages without an icon link (admin, API docs).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}img/logo.svg")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("account/webhooks/", include("webhooks.urls")),
    path("models/", include("models_registry.urls")),
    path("classify/", include("classification.urls")),
    path("classifiers/", include("training.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("api/redoc/", docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
