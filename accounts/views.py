from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import AccountDeleteForm, ApiTokenCreateForm, ProfileForm
from core.exceptions import ApplicationError

# A new token's key travels from the POST to the page that shows it in a signed,
# short-lived cookie sent only to that page, so the server never stores it.
NEW_KEY_COOKIE = "picsort_new_token"
NEW_KEY_SALT = "accounts.new-token"
NEW_KEY_MAX_AGE = 300


def _profile_page(request: HttpRequest, *, profile_form=None, token_form=None, status=200):
    context = {
        "profile_form": profile_form
        or ProfileForm(
            initial={
                "name": request.user.name,
                "share_for_model_tests": request.user.share_for_model_tests,
            }
        ),
        "token_form": token_form or ApiTokenCreateForm(user=request.user),
        "tokens": selectors.api_token_list_for_user(user=request.user),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return _profile_page(request, profile_form=form, status=400)
        services.user_update_profile(
            user=request.user,
            name=form.cleaned_data["name"],
            share_for_model_tests=form.cleaned_data["share_for_model_tests"],
        )
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return _profile_page(request)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenCreateForm(request.POST, user=request.user)
    if not form.is_valid():
        return _profile_page(request, token_form=form, status=400)
    try:
        _token, key = services.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            classifier=form.cleaned_data.get("classifier"),
            expires_at=form.expires_at,
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _profile_page(request, token_form=form, status=error.status)
    # POST/redirect/GET: reloading the page that shows the key creates nothing.
    response = redirect("accounts:token_created")
    response.status_code = 303
    response.set_signed_cookie(
        NEW_KEY_COOKIE,
        key,
        salt=NEW_KEY_SALT,
        max_age=NEW_KEY_MAX_AGE,
        path=reverse("accounts:token_created"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


@login_required
@never_cache
def token_created(request: HttpRequest) -> HttpResponse:
    """Shows a new token's key once; never cached, and the cookie that carried
    the key is deleted, so a reload or the back button shows it no more."""
    key = request.get_signed_cookie(
        NEW_KEY_COOKIE, default=None, salt=NEW_KEY_SALT, max_age=NEW_KEY_MAX_AGE
    )
    token = selectors.api_token_for_key(user=request.user, key=key) if key else None
    context = {"token": token, "new_key": key if token else None}
    response = render(request, "accounts/token_created.html", context)
    response.delete_cookie(NEW_KEY_COOKIE, path=reverse("accounts:token_created"))
    return response


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
@require_http_methods(["GET", "HEAD", "POST"])
def token_revoke_all(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST revokes every token of the user."""
    if request.method != "POST":
        count = selectors.api_token_list_for_user(user=request.user).count()
        return render(request, "accounts/token_revoke_all.html", {"count": count})
    count = services.api_token_revoke_all(user=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d token was revoked. Programs using it can no longer sign in.",
            "%(count)d tokens were revoked. Programs using them can no longer sign in.",
            count,
        )
        % {"count": count},
    )
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
