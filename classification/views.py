"""Pages: classify, history, batches. Thin: every write calls a service."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from classification import selectors, services
from classification.filters import PredictionFilter
from classification.forms import ClassifierChoiceForm
from classification.hedging import hedge_threshold, hedged_for_display
from classification.models import BatchJob, Image
from classification.sorted_zip import batch_sorted_zip_response
from core.csv_export import csv_stream
from core.exceptions import ApplicationError
from core.ratelimits import rate_limit_hit
from core.uploads import raise_if_upload_too_large, with_upload_limits


def _uploads(request: HttpRequest) -> list[services.Upload]:
    return services.uploads_from_files(request.FILES.getlist("file"))


def _classes(prediction, top_k: int = 5) -> list[dict]:
    return selectors.prediction_classes(
        prediction=prediction, language=get_language() or "en", top_k=top_k
    )


@with_upload_limits
@login_required
def classify(request: HttpRequest) -> HttpResponse:
    """The upload page. With JavaScript it posts to the API and shows results in
    place; without, this view classifies and renders the same results: every
    file on its own, the ones that could not be classified with their reason."""
    answered, status, headers = [], 200, {}
    if request.method == "POST":
        form = ClassifierChoiceForm(request.POST, user=request.user)
        try:
            rate_limit_hit(action="classify", user=request.user)
            raise_if_upload_too_large(request)
            if form.is_valid():
                version = services.model_version_resolve(
                    user=request.user, model=form.cleaned_data["model"]
                )
                answered = services.classify_uploads_each(
                    user=request.user,
                    uploads=_uploads(request),
                    version=version,
                    store=form.cleaned_data["store"],
                    alias=services.alias_of(form.cleaned_data["model"]),
                    hedge_at=hedge_threshold(version=version, min_confidence=None),
                ).in_upload_order()
            else:
                status = 400
        except ApplicationError as error:
            form.add_error(None, error.message)
            status, headers = error.status, error.headers
            answered = error.extra.get("errors", [])  # none classified: every file's reason
    else:
        form = ClassifierChoiceForm(user=request.user, initial_model=request.GET.get("model", ""))
    results = [_answer_row(item) for item in answered]
    has_model = bool(form.fields["model"].choices)
    response = render(
        request,
        "classification/classify.html",
        {
            "form": form,
            "results": results,
            "has_model": has_model,
            "max_files": settings.CLASSIFY_MAX_FILES,
        },
        status=status,
    )
    for name, value in headers.items():
        response[name] = value
    return response


def _answer_row(item) -> dict:
    """One file's answer on the classify page: its classes, or why it has none."""
    if isinstance(item, services.FileError):
        return {"error": item.as_dict()}
    if isinstance(item, dict):
        return {"error": item}
    hedged = hedged_for_display(prediction=item, language=get_language() or "en")
    return {"prediction": item, "classes": _classes(item), "hedged": hedged}


HISTORY_PAGE_SIZE = 24  # a full grid with 2, 3, 4 or 6 cards a row
BATCH_PAGE_SIZE = 50


def _history_filter(request: HttpRequest) -> PredictionFilter:
    """The same FilterSet as the API list, so page, exports and API agree."""
    return PredictionFilter(
        request.GET,
        queryset=selectors.prediction_list_for_user(user=request.user),
        request=request,
    )


def _page(request: HttpRequest, items, size: int):
    """One page of ``items`` and the query string that keeps the other parameters."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The gallery: a card per classification, searchable by class and file name."""
    found = _history_filter(request)
    predictions = found.qs if found.is_valid() else found.queryset.none()
    page, query = _page(request, predictions, HISTORY_PAGE_SIZE)
    cards = [{"prediction": p, "top": (_classes(p, 1) or [None])[0]} for p in page]
    has_any = bool(cards) or selectors.prediction_list_for_user(user=request.user).exists()
    return render(
        request,
        "classification/history.html",
        {
            "filter": found,
            "form": found.form,
            "page": page,
            "cards": cards,
            "query": query,
            "has_any": has_any,
        },
    )


@login_required
def history_export(request: HttpRequest, fmt: str) -> HttpResponse:
    found = _history_filter(request)
    if not found.is_valid():
        return HttpResponseBadRequest(_form_errors(found.form), content_type="text/plain")
    predictions = found.qs
    language = get_language() or "en"

    def records():
        for prediction in predictions.iterator(chunk_size=500):
            classes = selectors.prediction_classes(prediction=prediction, language=language)
            yield {
                "id": prediction.pk,
                "file": prediction.original_name,
                "created_at": prediction.created_at.isoformat(),
                "model": str(prediction.model_version),
                "label_set": str(prediction.label_set),
                "classes": classes,
            }

    if fmt == "json":
        body = json.dumps(list(records()), ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            _csv_rows(records()), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="classifications.{fmt}"'
    return response


def _csv_rows(records):
    header = ["id", "file", "created_at", "model", "label_set"]
    header += ["rank", "key", "name", "probability"]
    rows = (
        [
            record["id"],
            record["file"],
            record["created_at"],
            record["model"],
            record["label_set"],
            rank,
            item["key"],
            item["name"],
            f"{item['probability']:.6f}",
        ]
        for record in records
        for rank, item in enumerate(record["classes"], start=1)
    )
    return csv_stream(header, rows)


@login_required
def prediction_detail(request: HttpRequest, prediction_id: int) -> HttpResponse:
    prediction = selectors.prediction_get_for_user(user=request.user, prediction_id=prediction_id)
    if prediction is None:
        raise Http404
    return render(
        request,
        "classification/prediction_detail.html",
        {
            "prediction": prediction,
            "classes": _classes(prediction, 10),
            "hedged": hedged_for_display(prediction=prediction, language=get_language() or "en"),
        },
    )


def _form_errors(form) -> str:
    return "\n".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


@login_required
def prediction_delete(request: HttpRequest, prediction_id: int) -> HttpResponse:
    """GET asks (works without JavaScript), POST deletes."""
    prediction = selectors.prediction_get_for_user(user=request.user, prediction_id=prediction_id)
    if prediction is None:
        raise Http404
    if request.method != "POST":
        return render(
            request,
            "classification/history_delete_one.html",
            {"prediction": prediction, "top": (_classes(prediction, 1) or [None])[0]},
        )
    try:
        services.prediction_delete(user=request.user, prediction_id=prediction_id)
    except ApplicationError as error:
        raise Http404 from error
    messages.success(request, _("The classification was deleted."))
    return redirect("classification:history")


@login_required
def history_delete_all(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        count = services.prediction_delete_all(user=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)d classification was deleted.",
                "%(count)d classifications were deleted.",
                count,
            )
            % {"count": count},
        )
        return redirect("classification:history")
    return render(request, "classification/history_delete_all.html")


@login_required
def image(request: HttpRequest, image_id: int, thumbnail: bool = False) -> FileResponse:
    """An image, to its owner only: everyone else gets 404, as if it did not exist."""
    found = Image.objects.filter(pk=image_id, user=request.user).first()
    if found is None:
        raise Http404
    field = found.thumbnail if thumbnail else found.file
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@with_upload_limits
@login_required
def batch_new(request: HttpRequest) -> HttpResponse:
    status, headers = 200, {}
    if request.method == "POST":
        form = ClassifierChoiceForm(request.POST, user=request.user)
        try:
            rate_limit_hit(action="batch", user=request.user)
            raise_if_upload_too_large(request)
            if form.is_valid():
                version = services.model_version_resolve(
                    user=request.user, model=form.cleaned_data["model"]
                )
                job = services.batch_job_create(
                    user=request.user,
                    archive=request.FILES.get("archive"),
                    uploads=_uploads(request),
                    version=version,
                    store=form.cleaned_data["store"],
                )
                return redirect("classification:batch_detail", job_id=job.pk)
            status = 400
        except ApplicationError as error:
            form.add_error(None, error.message)
            status, headers = error.status, error.headers
    else:
        form = ClassifierChoiceForm(user=request.user, initial_model=request.GET.get("model", ""))
    jobs = selectors.batch_job_list_for_user(user=request.user)[:20]
    response = render(
        request, "classification/batch_new.html", {"form": form, "jobs": jobs}, status=status
    )
    for name, value in headers.items():
        response[name] = value
    return response


def _job_or_404(request: HttpRequest, job_id: int):
    job = selectors.batch_job_get_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise Http404
    return job


@login_required
def batch_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """Progress (followed live by batch.js) and the items, a page at a time:
    the ones still waiting too, so a big batch can be read while it runs."""
    job = _job_or_404(request, job_id)
    page, query = _page(request, selectors.batch_items_for_job(job=job), BATCH_PAGE_SIZE)
    rows = []
    for item in page:
        prediction = getattr(item, "prediction", None)
        top = (_classes(prediction, 1) or [None])[0] if prediction else None
        rows.append({"item": item, "prediction": prediction, "top": top})
    # For batch.js: the status names it shows as the job moves on, in this language.
    labels = {value: capfirst(str(label)) for value, label in BatchJob.Status.choices}
    return render(
        request,
        "classification/batch_detail.html",
        {
            "job": job,
            "page": page,
            "rows": rows,
            "query": query,
            "status_labels": json.dumps(labels, ensure_ascii=False),
        },
    )


@login_required
def batch_sorted_zip(request: HttpRequest, job_id: int) -> HttpResponse:
    """The batch's kept photos, a folder per predicted class (classification.sorted_zip)."""
    job = _job_or_404(request, job_id)
    try:
        return batch_sorted_zip_response(job=job, language=get_language() or "en")
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("classification:batch_detail", job_id=job.pk)


@login_required
def batch_export(request: HttpRequest, job_id: int, fmt: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    language = get_language() or "en"

    def records():
        for item in selectors.batch_items_for_job(job=job):
            prediction = getattr(item, "prediction", None)
            yield {
                "id": prediction.pk if prediction else "",
                "file": item.original_name,
                "created_at": prediction.created_at.isoformat() if prediction else "",
                "model": str(job.model_version),
                "label_set": str(job.model_version.label_set),
                "status": item.status,
                "error_code": item.error_code,
                "error": item.error_message,
                "classes": selectors.prediction_classes(
                    prediction=prediction, language=language, top_k=job.top_k
                )
                if prediction
                else [],
            }

    if fmt == "json":
        body = json.dumps(list(records()), ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        rows = []
        for record in records():
            if not record["classes"]:
                record["classes"] = [{"key": "", "name": record["error"], "probability": 0.0}]
            rows.append(record)
        response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{job.pk}.{fmt}"'
    return response
