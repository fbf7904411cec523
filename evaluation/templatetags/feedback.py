"""``{% feedback_form prediction %}``: "Wrong? Pick the right class" under a
result, for the person who made it. On their own classifier the photo becomes
an example of that class; on a shared model it is sent to the administrators
only when they tick the box."""

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import get_language

from models_registry.selectors import label_names_for_set

register = template.Library()


@register.inclusion_tag("evaluation/_feedback.html", takes_context=True)
def feedback_form(context, prediction) -> dict:
    request = context["request"]
    try:
        given = prediction.feedback
    except ObjectDoesNotExist:
        given = None
    names = label_names_for_set(label_set=prediction.label_set, language=get_language() or "en")
    choices = sorted(
        ((key, name) for key, name in names if key != prediction.top_key),
        key=lambda pair: pair[1].casefold(),
    )
    return {
        "prediction": prediction,
        "given": given,
        "given_name": dict(names).get(given.correct_key, "") if given else "",
        "own": prediction.model_version.owner_id == request.user.pk,
        "kept": prediction.image_id is not None,
        "choices": choices,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
