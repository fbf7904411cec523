"""Start the test OpenID Connect provider on a free port and print its URL.

    python -m tests.oidc_provider.serve --redirect-uri URL --workdir DIR

Creates one user and one confidential client, then serves until killed.
"""

import argparse
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

USERNAME = "ada"
PASSWORD = "analytical-engine-1843"
EMAIL = "ada@idp.example"
CLIENT_ID = "picsort-tests"
CLIENT_SECRET = "picsort-tests-secret-0123456789"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _write_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    key_path = args.workdir / "oidc.pem"
    _write_key(key_path)
    os.environ["OIDC_PROVIDER_KEY"] = str(key_path)
    os.environ["OIDC_PROVIDER_DB"] = str(args.workdir / "provider.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(
        USERNAME, EMAIL, PASSWORD, first_name="Ada", last_name="Lovelace"
    )
    Application.objects.create(
        name="Picsort",
        user=user,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=args.redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )

    server = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    print(f"READY http://127.0.0.1:{server.server_port}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
