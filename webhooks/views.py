"""The Webhooks pages (linked from the profile): endpoints, their secret shown
once, each endpoint's delivery log, and a test event."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError
from core.ratelimits import rate_limit_hit
from webhooks import selectors, services
from webhooks.forms import WebhookEndpointForm

# The endpoint whose secret the next "created" page shows, once.
SHOW_SECRET = "webhooks.show_secret"  # noqa: S105 (a session key, not a secret)
DELIVERIES_SHOWN = 50


def _endpoint(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.webhook_endpoint_list_for_user(user=request.user), pk=pk)


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint, _secret = services.webhook_endpoint_create(
                    user=request.user,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                )
            except ApplicationError as error:
                form.add_error("url" if error.code.startswith("url") else None, error.message)
            else:
                request.session[SHOW_SECRET] = endpoint.pk
                response = redirect("webhooks:created")
                response.status_code = 303
                return response
        status = 400
    endpoints = selectors.webhook_endpoint_list_for_user(user=request.user)
    context = {"form": form, "endpoints": endpoints}
    return render(request, "webhooks/webhook_list.html", context, status=status)


@login_required
@never_cache
def webhook_created(request: HttpRequest) -> HttpResponse:
    """Shows a new endpoint's secret once: a reload shows it no more."""
    pk = request.session.pop(SHOW_SECRET, None)
    endpoint = (
        selectors.webhook_endpoint_list_for_user(user=request.user).filter(pk=pk).first()
        if pk
        else None
    )
    return render(request, "webhooks/webhook_created.html", {"endpoint": endpoint})


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    deliveries = selectors.webhook_delivery_list_for_endpoint(endpoint=endpoint)
    context = {"endpoint": endpoint, "deliveries": deliveries[:DELIVERIES_SHOWN]}
    return render(request, "webhooks/webhook_detail.html", context)


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    try:
        rate_limit_hit(action="webhook_test", user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("webhooks:detail", pk=pk)
    services.webhook_test_send(endpoint=endpoint)
    messages.success(request, _("A test event is on its way; its delivery appears below."))
    return redirect("webhooks:detail", pk=pk)


@login_required
@require_POST
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    services.webhook_endpoint_update(endpoint=_endpoint(request, pk), active=active)
    if active:
        messages.success(request, _("The endpoint is turned on."))
    else:
        messages.success(request, _("The endpoint is turned off: it receives no events."))
    return redirect("webhooks:detail", pk=pk)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.webhook_endpoint_delete(endpoint=_endpoint(request, pk))
    messages.success(request, _("The endpoint and its delivery log were deleted."))
    return redirect("webhooks:list")
