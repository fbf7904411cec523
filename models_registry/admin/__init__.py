"""Administrators change what images are classified into, from here.

Upload a label set (txt, CSV or JSON) and a .keras model for it; validation
runs in a worker and its progress shows on the model's page; activate a ready
version under an alias, or roll an alias back, with one action. Every admin
write goes through ``services``.

The admin is split by idea: label sets, model versions, aliases, groupings.
"""

from models_registry.admin import aliases, groupings, label_sets, versions  # noqa: F401
