"""Health probes and metric scrapes, answered for any ``Host``.

The kubelet probes ``/healthz`` and ``/readyz`` with ``Host: <pod IP>:8000``
and Prometheus scrapes ``/metrics`` by pod IP, both over plain http inside the
cluster. ``ALLOWED_HOSTS`` cannot list pod IPs, so ``CommonMiddleware`` would
answer 400 (``DisallowedHost``) and ``SecurityMiddleware`` would redirect to
https. This middleware sits before both and hands exactly these requests to
their views, with an anonymous user and no session:

- GET or HEAD of ``/healthz`` or ``/readyz``: always (their answer does not
  depend on who asks or by which name);
- GET or HEAD of ``/metrics`` with an ``Authorization`` header (a scraper's
  bearer token). Staff reading ``/metrics`` in a browser go through the full
  chain: the site's own host name, https, their session.

Every other request, on every other path, still has its host validated.
Skipping the rest of the chain also keeps ``/healthz`` cheap when workers are
busy (see ``config/gunicorn.py``).
"""

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.urls import resolve

ALWAYS = frozenset({"/healthz", "/readyz"})
WITH_CREDENTIALS = frozenset({"/metrics"})


def is_probe(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path_info
    return path in ALWAYS or (path in WITH_CREDENTIALS and "authorization" in request.headers)


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_probe(request):
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match  # the latency middleware labels by view
        request.user = AnonymousUser()
        try:
            return match.func(request, *match.args, **match.kwargs)
        except Http404:
            # A wrong scrape token: a bare 404, not the site's page (the
            # middleware it needs, sessions, language, CSP, never ran).
            return HttpResponseNotFound()
