from tests.training.conftest import textures, trained  # noqa: F401  (a trained classifier)
