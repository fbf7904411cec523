"""Schemathesis hooks for bench/fuzz_api.py (loaded through SCHEMATHESIS_HOOKS)."""

import re

import schemathesis

# What the URL converters accept; other values match no route at all.
ROUTABLE = {"id": r"\d{1,18}", "pk": r"\d{1,18}", "name": r"[-a-zA-Z0-9_]+", "kind": r"[^/]+"}


@schemathesis.check
def only_denied(ctx, response, case):
    """Without credentials every API operation must answer 401 or 403. (A path
    whose parameters fit no route, like an id of letters, is no operation: the
    router's 404 is right for it.)"""
    routable = all(
        re.fullmatch(ROUTABLE.get(name, r"[^/]+"), str(value))
        for name, value in (case.path_parameters or {}).items()
    )
    if response.status_code not in (401, 403) and routable:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code} "
            "without credentials"
        )
