from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from models_registry.bootstrap import groupings_ensure, pretrained_model_ensure
from models_registry.int8 import int8_gate_summary
from models_registry.pretrained import VARIANTS
from models_registry.selectors import model_version_for_alias


class Command(BaseCommand):
    help = (
        "Register the ImageNet-1k label set and the pretrained EfficientNet-Lite model, "
        "and point the 'default' alias at it if none is set; add the shipped groupings "
        "of its classes. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--variant", choices=sorted(VARIANTS), default="lite0")
        parser.add_argument(
            "--no-activate", action="store_true", help="Do not point the default alias."
        )

    def handle(self, *args, variant: str, no_activate: bool, **options):
        try:
            version = pretrained_model_ensure(variant_key=variant, activate=not no_activate)
            groupings = groupings_ensure(base_version=version)
        except ApplicationError as error:
            raise CommandError(str(error.message)) from error
        default = model_version_for_alias(alias="default")
        self.stdout.write(
            f"{version} is ready ({version.metrics.get('parameters', '?')} parameters); "
            f"default alias -> {default}; groupings: {', '.join(map(str, groupings))}"
        )
        self.stdout.write(f"int8 variant: {int8_gate_summary(version.int8_gate)}")
