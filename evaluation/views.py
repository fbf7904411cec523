"""Pages: evaluation sets, evaluation reports (with the photos behind each
cell of the confusion matrix and the reliability diagram) and comparisons.
Owners see their private sets; staff the shared ones (the admin links here).
Thin: every write calls a service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError
from core.ratelimits import rate_limit_hit
from core.uploads import raise_if_upload_too_large, with_upload_limits
from evaluation import reports, selectors, services
from evaluation.forms import EvaluationSetForm, EvaluationStartForm
from evaluation.models import EvaluationPhoto


@login_required
def set_list(request: HttpRequest) -> HttpResponse:
    sets = selectors.evaluation_sets_for(user=request.user)
    form = EvaluationSetForm(user=request.user)
    return render(request, "evaluation/set_list.html", {"sets": sets, "form": form})


@with_upload_limits
@require_POST
@login_required
def set_upload(request: HttpRequest) -> HttpResponse:
    form = EvaluationSetForm(request.POST, request.FILES, user=request.user)
    try:
        rate_limit_hit(action="examples", user=request.user)
        raise_if_upload_too_large(request)
        if not form.is_valid():
            messages.error(request, _("Give the set a name, its classes and a zip."))
            return redirect("evaluation:sets")
        evaluation_set = services.evaluation_set_start(
            name=form.cleaned_data["name"],
            label_set=form.chosen_label_set(),
            archive=form.cleaned_data["archive"],
            user=request.user,
            owner=form.owner(),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("evaluation:sets")
    return redirect("evaluation:set", evaluation_set.pk)


@login_required
def set_detail(request: HttpRequest, set_id: int) -> HttpResponse:
    evaluation_set = get_object_or_404(selectors.evaluation_sets_for(user=request.user), pk=set_id)
    form = EvaluationStartForm(user=request.user, evaluation_set=evaluation_set)
    evaluations = list(
        selectors.evaluations_for(user=request.user).filter(evaluation_set=evaluation_set)
    )
    context = {
        "set": evaluation_set,
        "form": form,
        "evaluations": evaluations,
        "finished": [e for e in evaluations if e.status == e.Status.SUCCEEDED],
        "classes": reports.set_classes(evaluation_set),
    }
    return render(request, "evaluation/set_detail.html", context)


@require_POST
@login_required
def evaluate(request: HttpRequest, set_id: int) -> HttpResponse:
    evaluation_set = get_object_or_404(selectors.evaluation_sets_for(user=request.user), pk=set_id)
    form = EvaluationStartForm(request.POST, user=request.user, evaluation_set=evaluation_set)
    if not form.is_valid():
        messages.error(request, _("Choose a model to evaluate."))
        return redirect("evaluation:set", set_id)
    try:
        evaluation = services.evaluation_start(
            version=form.cleaned_data["model"], evaluation_set=evaluation_set, user=request.user
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("evaluation:set", set_id)
    return redirect("evaluation:report", evaluation.pk)


@login_required
def report(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = get_object_or_404(selectors.evaluations_for(user=request.user), pk=evaluation_id)
    context = reports.report_context(evaluation, query=request.GET)
    context["others"] = (
        selectors.evaluations_for(user=request.user)
        .filter(evaluation_set=evaluation.evaluation_set, status="succeeded")
        .exclude(pk=evaluation.pk)
    )
    return render(request, "evaluation/report.html", context)


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    visible = selectors.evaluations_for(user=request.user)
    try:
        before = visible.get(pk=int(request.GET["before"]))
        after = visible.get(pk=int(request.GET["after"]))
        comparison = services.evaluation_compare(before=before, after=after)
    except (KeyError, ValueError, OverflowError, visible.model.DoesNotExist) as error:
        raise Http404 from error
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("evaluation:sets")
    context = reports.comparison_context(before, after, comparison)
    return render(request, "evaluation/compare.html", context)


@login_required
def photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """A photo of an evaluation set, to whoever may see the set."""
    sets = selectors.evaluation_sets_for(user=request.user)
    found = EvaluationPhoto.objects.filter(pk=photo_id, evaluation_set__in=sets).first()
    if found is None:
        raise Http404
    response = FileResponse(found.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@login_required
def feedback(request: HttpRequest, prediction_id: int) -> HttpResponse:
    """ "Wrong? The right class is ..." from a result on the site."""
    try:
        services.feedback_give(
            user=request.user,
            prediction_id=prediction_id,
            correct=request.POST.get("correct", ""),
            consent=request.POST.get("consent") == "on",
        )
    except ApplicationError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your correction was recorded."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("classification:prediction_detail", args=[prediction_id])
    return redirect(back)
