"""Pages for a user's own classifiers. Thin: every write calls a service."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.charts import cell_from_query, confusion_picture, reliability_picture
from core.exceptions import ApplicationError
from core.ratelimits import rate_limit_hit
from core.uploads import raise_if_upload_too_large, uploads_from_files, with_upload_limits
from training import selectors, services
from training.exports import EXPORT_KINDS, export_files, export_response  # noqa: F401
from training.forms import (
    ClassAddForm,
    ClassifierCreateForm,
    DistanceForm,
    RenameForm,
    ThresholdForm,
)
from training.models import Classifier


def run_or_404(request: HttpRequest, run_id: int):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    if run is None:
        raise Http404
    return run


def _classifier_or_404(request: HttpRequest, classifier_id: int) -> Classifier:
    classifier = selectors.classifier_get_for_user(user=request.user, classifier_id=classifier_id)
    if classifier is None:
        raise Http404
    return classifier


@login_required
def classifier_list(request: HttpRequest) -> HttpResponse:
    form = ClassifierCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                classifier = services.classifier_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    class_names=form.class_names(),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                return redirect("training:detail", classifier.pk)
        else:
            status = 400
    classifiers = selectors.classifier_list_for_user(user=request.user)
    return render(
        request,
        "training/classifier_list.html",
        {"form": form, "classifiers": classifiers},
        status=status,
    )


PREVIEWS_PER_CLASS = 11  # thumbnails per class on the classifier's page; the rest one click away


def _classes_with_previews(classifier: Classifier) -> list[dict]:
    previews = selectors.example_previews(classifier=classifier, per_class=PREVIEWS_PER_CLASS)
    return [
        {
            **row,
            "previews": previews.get(row["id"], []),
            "more": row["examples"] - PREVIEWS_PER_CLASS,
        }
        for row in selectors.class_list(classifier=classifier)
    ]


def _detail_context(classifier: Classifier) -> dict:
    runs = list(selectors.run_list(classifier=classifier))
    active_version = classifier.active_version
    in_use = active_version.pk if active_version else None
    version_run = next((r for r in runs if in_use and r.model_version_id == in_use), None)
    return {
        "classifier": classifier,
        "classes": _classes_with_previews(classifier),
        "max_files": settings.EXAMPLES_MAX_FILES_PER_REQUEST,
        "runs": runs,
        "active_run": next((r for r in runs if r.is_active), None),
        "imports": list(classifier.imports.defer("members")[:3]),
        "version_run": version_run,
        "rename_form": RenameForm(initial={"name": classifier.name}),
        "class_form": ClassAddForm(),
        "threshold_form": ThresholdForm(
            initial={"threshold": active_version.confidence_threshold if active_version else None}
        ),
        "distance_form": DistanceForm(
            initial={"distance": active_version.distance_threshold if active_version else None}
        ),
        "checks": selectors.classifier_checks(classifier=classifier),
    }


@login_required
def classifier_detail(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    return render(request, "training/classifier_detail.html", _detail_context(classifier))


def _act(request: HttpRequest, classifier: Classifier, action, success: str | None = None):
    """Runs a service; its error becomes a message on the classifier's page."""
    try:
        result = action()
    except ApplicationError as error:
        messages.error(request, error.message)
        return None, redirect("training:detail", classifier.pk)
    if success:
        messages.success(request, success)
    return result, redirect("training:detail", classifier.pk)


@require_POST
@login_required
def classifier_rename(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    form = RenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the classifier a name."))
        return redirect("training:detail", classifier.pk)
    _result, response = _act(
        request,
        classifier,
        lambda: services.classifier_rename(classifier=classifier, name=form.cleaned_data["name"]),
        _("Renamed."),
    )
    return response


@login_required
def classifier_delete(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    if request.method == "POST":
        services.classifier_delete(classifier=classifier)
        messages.success(request, _("The classifier was deleted."))
        return redirect("training:list")
    return render(request, "training/classifier_delete.html", {"classifier": classifier})


@require_POST
@login_required
def class_add(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    form = ClassAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the class a name."))
        return redirect("training:detail", classifier.pk)
    _result, response = _act(
        request,
        classifier,
        lambda: services.class_add(classifier=classifier, name=form.cleaned_data["name"]),
    )
    return response


@require_POST
@login_required
def class_delete(request: HttpRequest, classifier_id: int, class_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    _result, response = _act(
        request,
        classifier,
        lambda: services.class_delete(classifier=classifier, class_id=class_id),
        _("The class and its examples were deleted."),
    )
    return response


def _added_message(added: dict[str, int]) -> str:
    total = sum(added.values())
    if not total:
        return _("Those images were already there; nothing was added.")
    return ngettext("%(count)d example added.", "%(count)d examples added.", total) % {
        "count": total
    }


@with_upload_limits
@require_POST
@login_required
def examples_upload(request: HttpRequest, classifier_id: int) -> HttpResponse:
    """Files for one class (``class`` + ``file``), added now; or a zip with a
    folder per class, added by a worker while the classifier's page shows it."""
    classifier = _classifier_or_404(request, classifier_id)
    try:
        rate_limit_hit(action="examples", user=request.user)
        raise_if_upload_too_large(request)
        received = services.examples_receive(
            classifier=classifier,
            user=request.user,
            archive=request.FILES.get("archive"),
            class_name=request.POST.get("class", ""),
            uploads=uploads_from_files(request.FILES.getlist("file")),
        )
        if isinstance(received, dict):
            messages.success(request, _added_message(received))
        else:
            messages.info(
                request,
                ngettext(
                    "The zip holds %(count)d photo; it is being checked and added.",
                    "The zip holds %(count)d photos; they are being checked and added.",
                    received.total,
                )
                % {"count": received.total},
            )
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("training:detail", classifier.pk)


@login_required
def examples_of_class(request: HttpRequest, classifier_id: int, class_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    cls = classifier.classes.filter(pk=class_id).first()
    if cls is None:
        raise Http404
    return render(
        request,
        "training/class_examples.html",
        {
            "classifier": classifier,
            "cls": cls,
            "examples": selectors.examples_for_class(cls=cls),
        },
    )


@require_POST
@login_required
def example_delete(request: HttpRequest, classifier_id: int, example_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    example = selectors.example_get_for_user(user=request.user, example_id=example_id)
    class_id = example.classifier_class_id if example else None
    try:
        services.example_delete(classifier=classifier, example_id=example_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("training:detail", classifier.pk)
    messages.success(request, _("The example was removed."))
    if request.POST.get("next") == "classifier":  # removed from the classifier's page
        return redirect(reverse("training:detail", args=[classifier.pk]) + f"#class-{class_id}")
    if request.POST.get("next") == "checks":  # a fix from the checks
        return redirect(reverse("training:detail", args=[classifier.pk]) + "#checks")
    return redirect("training:examples", classifier.pk, class_id)


@login_required
def example_image(request: HttpRequest, example_id: int) -> FileResponse:
    example = selectors.example_get_for_user(user=request.user, example_id=example_id)
    if example is None:
        raise Http404
    response = FileResponse(example.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@login_required
def train(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    try:
        run, _created = services.training_start(classifier=classifier, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("training:detail", classifier.pk)
    return redirect("training:run", run.pk)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = run_or_404(request, run_id)
    names = run.snapshot.get("names", [])
    cell = cell_from_query(request.GET, len(names))
    context = {
        "run": run,
        "classifier": run.classifier,
        "names": names,
        "metrics": run.metrics,
        "per_class": [
            {"name": name, **row}
            for name, row in zip(names, run.metrics.get("per_class", []), strict=False)
        ],
        "matrix": confusion_picture(run.metrics.get("confusion"), names, cell),
        "diagram": reliability_picture(run.metrics.get("calibration", {}).get("bins", [])),
        "cell": cell,
        "cell_true": names[cell[0]] if cell else "",
        "cell_predicted": names[cell[1]] if cell else "",
        "cell_items": selectors.validation_items(run=run, true=cell[0], predicted=cell[1])
        if cell
        else [],
    }
    return render(request, "training/run_detail.html", context)


@require_POST
@login_required
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = run_or_404(request, run_id)
    services.training_cancel(run=run)
    messages.info(request, _("The training is being cancelled."))
    return redirect("training:run", run.pk)


@require_POST
@login_required
def use_version(request: HttpRequest, classifier_id: int) -> HttpResponse:
    classifier = _classifier_or_404(request, classifier_id)
    version_id = request.POST.get("version", "")
    _result, response = _act(
        request,
        classifier,
        lambda: services.classifier_use_version(
            classifier=classifier, version_id=int(version_id) if version_id.isdigit() else 0
        ),
        _("This version is now used when you classify with the classifier."),
    )
    return response


def _set_on_version(request, classifier_id: int, form_class, field: str, service, invalid: str):
    """A serving setting of the version in use, from a one-field form."""
    classifier = _classifier_or_404(request, classifier_id)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect("training:detail", classifier.pk)
    _result, response = _act(
        request,
        classifier,
        lambda: service(classifier=classifier, threshold=form.cleaned_data[field]),
        _("Saved."),
    )
    return response


@require_POST
@login_required
def set_threshold(request: HttpRequest, classifier_id: int) -> HttpResponse:
    return _set_on_version(
        request,
        classifier_id,
        ThresholdForm,
        "threshold",
        services.classifier_set_threshold,
        _("The threshold must be between 0 and 1."),
    )


@require_POST
@login_required
def set_distance(request: HttpRequest, classifier_id: int) -> HttpResponse:
    return _set_on_version(
        request,
        classifier_id,
        DistanceForm,
        "distance",
        services.classifier_set_distance_threshold,
        _("The distance must be between 0 and 2."),
    )


@require_POST
@login_required
def examples_look(request: HttpRequest, classifier_id: int) -> HttpResponse:
    """Looks at a few more examples for the checks (bounded work per request)."""
    classifier = _classifier_or_404(request, classifier_id)

    def look():
        rate_limit_hit(action="examples", user=request.user)
        return services.examples_look(classifier=classifier)

    waiting, response = _act(request, classifier, look)
    if waiting:
        messages.info(
            request,
            ngettext(
                "%(count)d example is still waiting to be looked at.",
                "%(count)d examples are still waiting to be looked at.",
                waiting,
            )
            % {"count": waiting},
        )
    response["Location"] += "#checks"
    return response


# Export
# ------------------------------------------------------------------------------


@login_required
def export(request: HttpRequest, version_id: int, kind: str) -> HttpResponse:
    run = selectors.run_for_version(user=request.user, version_id=version_id)
    if run is None or kind not in EXPORT_KINDS:
        raise Http404
    return export_response(run, kind)
