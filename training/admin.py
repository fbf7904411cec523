"""Staff can see users' classifiers and training runs (to help, or to clean up);
users manage them on their own pages."""

from django.contrib import admin

from training import services
from training.models import Classifier, ClassifierClass, TrainingRun


class ClassInline(admin.TabularInline):
    model = ClassifierClass
    fields = ["name"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Classifier)
class ClassifierAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "active_version", "created_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner", "active_version"]
    readonly_fields = ["owner", "name", "active_version", "created_at"]
    fields = readonly_fields
    inlines = [ClassInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # Deleting goes through the service, so the versions, their files and the
    # classifications made with them leave too.
    def delete_model(self, request, obj) -> None:
        services.classifier_delete(classifier=obj)

    def delete_queryset(self, request, queryset) -> None:
        for classifier in queryset:
            services.classifier_delete(classifier=classifier)


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "status", "phase", "percent", "attempts", "created_at"]
    list_filter = ["status"]
    search_fields = ["classifier__name", "user__email"]
    list_select_related = ["classifier", "user"]
    readonly_fields = [
        "classifier",
        "user",
        "number",
        "status",
        "phase",
        "percent",
        "error",
        "attempts",
        "worker",
        "lease_expires_at",
        "model_version",
        "metrics",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
