"""The guard in front of every address fetched for a user (core/fetch.py),
against a real local server standing in for the internet."""

import pytest

from core.fetch import FetchError, address_refused, fetch, image_fetch, url_check
from tests.classification.images import jpeg
from tests.http_stand_in import Slow

PICTURE = jpeg(64, 48)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # Alibaba's metadata (shared address space)
        "192.0.0.192",  # Oracle's metadata
        "0.0.0.0",  # noqa: S104 (refused, not bound)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "192.88.99.1",  # 6to4 relay anycast
        "3fff::1",  # documentation
    ],
)
def test_inner_addresses_are_refused(address, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    assert address_refused(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert not address_refused(address)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://127.0.0.1/photo.jpg", "url_refused"),
        ("https://localhost/photo.jpg", "url_refused"),  # resolved here, then checked
        ("https://2130706433/photo.jpg", "url_refused"),  # 127.0.0.1 as one number
        ("https://[::ffff:7f00:1]/", "url_refused"),
        ("https://169.254.169.254/latest/meta-data/", "url_refused"),
        ("http://93.184.215.14/photo.jpg", "url_invalid"),  # plain http is off
        ("ftp://93.184.215.14/photo.jpg", "url_invalid"),
        ("file:///etc/passwd", "url_invalid"),
        ("https://user:pw@93.184.215.14/", "url_invalid"),
        ("https://[::1/", "url_invalid"),
        ("https://no-such-host.invalid/photo.jpg", "url_unreachable"),
    ],
)
def test_bad_addresses_fail_before_any_connection(url, code, settings):
    settings.FETCH_ALLOW_HTTP = False
    settings.FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(FetchError) as caught:
        url_check(url)
    assert caught.value.code == code
    assert caught.value.status == 400 if code != "url_unreachable" else 422


def test_the_connection_goes_to_the_checked_address(stand_in):
    stand_in.routes["/photo.jpg"] = lambda r: (200, {"Content-Type": "image/jpeg"}, PICTURE)
    target = url_check(stand_in.url("/photo.jpg"))
    assert target.address == "127.0.0.1"
    answer = fetch(stand_in.url("/photo.jpg"))
    assert answer.status == 200 and answer.body == PICTURE
    (request,) = stand_in.requests
    assert request.headers["Host"].startswith("127.0.0.1:")


def test_an_image_is_sniffed_not_taken_from_its_content_type(stand_in):
    html = b"<html><body>not a picture</body></html>"
    stand_in.routes["/fake.jpg"] = lambda r: (200, {"Content-Type": "image/jpeg"}, html)
    stand_in.routes["/real"] = lambda r: (200, {"Content-Type": "text/html"}, PICTURE)
    with pytest.raises(FetchError) as caught:
        image_fetch(stand_in.url("/fake.jpg"))
    assert caught.value.code == "not_an_image"
    assert image_fetch(stand_in.url("/real")) == PICTURE


def test_redirects_are_followed_and_each_hop_checked(stand_in, settings):
    stand_in.routes["/photo.jpg"] = lambda r: (200, {}, PICTURE)
    stand_in.routes["/moved"] = lambda r: (302, {"Location": "/photo.jpg"}, b"")
    metadata = "http://169.254.169.254/latest/meta-data/iam"
    stand_in.routes["/sneaky"] = lambda r: (302, {"Location": metadata}, b"")
    stand_in.routes["/loop"] = lambda r: (302, {"Location": "/loop"}, b"")
    assert image_fetch(stand_in.url("/moved")) == PICTURE
    with pytest.raises(FetchError) as caught:
        image_fetch(stand_in.url("/sneaky"))
    assert caught.value.code == "url_refused"
    assert "169.254.169.254" in caught.value.message
    with pytest.raises(FetchError) as caught:
        image_fetch(stand_in.url("/loop"))
    assert caught.value.code == "url_redirects"
    assert len(stand_in.received("/loop")) == settings.FETCH_MAX_REDIRECTS + 1


def test_a_body_past_the_limit_is_refused_while_it_is_read(stand_in, settings):
    settings.FETCH_MAX_BYTES = 10_000
    stand_in.routes["/declared"] = lambda r: (200, {}, b"x" * 20_000)
    endless = Slow((b"y" * 4096 for _ in range(10_000)), pause=0)  # 40 MB if read to the end
    stand_in.routes["/undeclared"] = lambda r: (200, {"Content-Length": ""}, endless)
    for path in ("/declared", "/undeclared"):
        with pytest.raises(FetchError) as caught:
            fetch(stand_in.url(path))
        assert (caught.value.code, caught.value.status) == ("url_too_large", 413)


def test_a_slow_server_meets_one_deadline_for_the_whole_exchange(stand_in, settings):
    settings.FETCH_TIMEOUT_SECONDS = 0.5
    # Each byte comes well within any per-read timeout; together they take 5 s.
    trickle = Slow((b"z" for _ in range(50)), pause=0.1)
    stand_in.routes["/trickle"] = lambda r: (200, {"Content-Length": "50"}, trickle)
    with pytest.raises(FetchError) as caught:
        fetch(stand_in.url("/trickle"))
    assert (caught.value.code, caught.value.status) == ("url_timeout", 422)


def test_an_http_error_is_named(stand_in):
    with pytest.raises(FetchError) as caught:
        image_fetch(stand_in.url("/missing.jpg"))
    assert caught.value.code == "url_http_error" and "404" in caught.value.message


def test_production_refuses_the_test_allowances():
    import os
    import subprocess
    import sys

    from tests.deploy.test_production_settings import BASE_ENV, ROOT

    code = "import django; django.setup(); print('started')"
    for name, value in [("DJANGO_FETCH_ALLOWED_NETWORKS", "127.0.0.1/32"), ("", "")]:
        env = {**os.environ, **BASE_ENV}
        if name:
            env[name] = value
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if name:
            assert result.returncode != 0 and name in result.stderr
        else:
            assert result.stdout.strip() == "started", result.stderr[-2000:]
