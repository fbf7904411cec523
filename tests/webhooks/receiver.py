"""A webhook receiver on the stand-in server: it checks every delivery's
signature with the endpoint's secret, as a user's program would."""

import json
import time

from webhooks.signing import signature_verify


def receive(stand_in, path: str, *, answers: list[int] | None = None):
    """Routes ``path`` to a receiver; answers the given statuses in turn (the
    last one for ever after). Returns the list of (verified, event) it saw;
    set ``.secret`` on the route before deliveries arrive."""
    seen: list[tuple[bool, dict]] = []
    statuses = list(answers or [200])

    def route(request):
        verified = signature_verify(
            secret=route.secret,
            header=request.headers.get("Picsort-Signature", ""),
            body=request.body,
            now=time.time(),
        )
        seen.append((verified, json.loads(request.body)))
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return status, {"Content-Type": "text/plain"}, b"thanks" if status < 300 else b"oops"

    route.secret = ""
    stand_in.routes[path] = route
    return route, seen
