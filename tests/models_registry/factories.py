import factory

from models_registry.label_files import LabelData
from models_registry.models import LabelSet
from models_registry.services import label_set_create


class LabelSetFactory(factory.django.DjangoModelFactory):
    """A small label set (through the service, so labels are created too)."""

    class Meta:
        model = LabelSet

    name = factory.Sequence(lambda n: f"labels-{n}")

    @classmethod
    def _create(cls, model_class, *args, name, classes=("cat", "dog", "bird"), **kwargs):
        labels = [LabelData(key=c, name=c, translations={"es": f"{c}-es"}) for c in classes]
        return label_set_create(name=name, labels=labels, **kwargs)
