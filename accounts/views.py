from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import AccountDeleteForm, ApiTokenCreateForm, ProfileForm
from core.exceptions import ApplicationError


def _profile_page(
    request: HttpRequest, *, profile_form=None, token_form=None, new_key=None, status=200
):
    context = {
        "profile_form": profile_form or ProfileForm(initial={"name": request.user.name}),
        "token_form": token_form or ApiTokenCreateForm(),
        "tokens": selectors.api_token_list_for_user(user=request.user),
        "new_key": new_key,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return _profile_page(request, profile_form=form, status=400)
        services.user_update_profile(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return _profile_page(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenCreateForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, token_form=form, status=400)
    try:
        _token, key = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    except ApplicationError as error:
        form.add_error("name", error.message)
        return _profile_page(request, token_form=form, status=error.status)
    # The key is shown once, in this response, and never stored in clear.
    return _profile_page(request, new_key=key)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=request.user, token_id=token_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("accounts:profile")
    messages.success(request, _("The token was revoked. Programs using it can no longer sign in."))
    return redirect("accounts:profile")


@login_required
@reauthentication_required(allow_get=True)
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.user_delete(user=user)
        messages.success(request, _("Your account and all its data were deleted."))
        return redirect("core:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/account_delete.html", {"form": form}, status=status)
