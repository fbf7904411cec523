"""The client sends its token only to the server it was given."""

import pytest
from picsort import PicsortError
from picsort._transport import Transport


def test_the_token_never_goes_to_another_origin():
    transport = Transport("http://127.0.0.1:8123/", "pst_secret")
    try:
        assert transport.url("/api/v1/me/") == "http://127.0.0.1:8123/api/v1/me/"
        # A page's `next` link on the same server is followed ...
        same = "http://127.0.0.1:8123/api/v1/classifications/?page=2"
        assert transport.url(same) == same
        # ... one elsewhere (another host, scheme or port) is refused before any request.
        for foreign in (
            "https://collector.example/api/v1/classifications/?page=2",
            "https://127.0.0.1:8123/api/v1/x/",
            "http://127.0.0.1:8124/api/v1/x/",
        ):
            with pytest.raises(PicsortError) as refused:
                transport.request("GET", foreign)
            assert refused.value.code == "foreign_url"
    finally:
        transport.close()


def test_a_folder_refuses_what_a_batch_would_ignore(tmp_path):
    from picsort import Client

    (tmp_path / "a.jpg").write_bytes(b"not sent")
    client = Client("http://127.0.0.1:8123/", "pst_secret")
    try:
        with pytest.raises(PicsortError) as refused:
            client.classify(tmp_path, expected_version=3)
        assert refused.value.code == "not_for_batches" and "expected_version" in str(refused.value)
    finally:
        client.close()
