"""A real OpenID Connect provider for tests: django-oauth-toolkit in OIDC mode.

It runs as its own process (``python -m tests.oidc_provider.serve``) with its
own database, so the sign-in test crosses real HTTP between two servers.
"""
