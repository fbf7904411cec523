"""One FilterSet for a user's classifications. The History page, its CSV and
JSON exports and the API list (``GET /api/v1/classifications/``) all filter
through it, so they answer the same rows for the same query, and the OpenAPI
schema documents its parameters (drf-spectacular reads django-filter)."""

import django_filters
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from classification import selectors
from classification.models import Prediction
from models_registry.models import ModelVersion


def _versions_used(request):
    """The versions the viewer has classified with: the page's menu, and the
    only ids the API accepts (anyone else's private classifier is not a choice)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ModelVersion.objects.none()
    return selectors.model_versions_used_by(user=user)


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class PredictionFilter(django_filters.FilterSet):
    label = django_filters.CharFilter(
        label=_("Class"),
        method="filter_label",
        max_length=100,
        help_text=_(
            "The top class's key or name (in the request's language) contains this; "
            "case and accents are ignored."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "enterkeyhint": "search"}),
    )
    file = django_filters.CharFilter(
        label=_("File name"),
        field_name="original_name",
        lookup_expr="icontains",
        max_length=255,
        help_text=_("The file name contains this (case is ignored)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "enterkeyhint": "search"}),
    )
    model = django_filters.ModelChoiceFilter(
        label=_("Model"),
        field_name="model_version",
        queryset=_versions_used,
        empty_label=_("All models"),
        help_text=_("A model version id, among those you have classified with."),
    )
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="created_at",
        lookup_expr="date__gte",
        help_text=_("Classified on or after this day (YYYY-MM-DD)."),
        widget=_date_input(),
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="created_at",
        lookup_expr="date__lte",
        help_text=_("Classified on or before this day (YYYY-MM-DD)."),
        widget=_date_input(),
    )

    class Meta:
        model = Prediction
        fields = ["label", "file", "model", "since", "until"]

    def filter_label(self, queryset, name, value: str):
        return selectors.prediction_list_with_top_class(
            predictions=queryset, text=value, language=get_language() or "en"
        )

    @property
    def is_filtering(self) -> bool:
        """Whether the query asks for anything (an empty answer then means
        "nothing matches", not "nothing yet")."""
        return any(self.data.get(name) for name in self.filters)
