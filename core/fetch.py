"""Fetching an address a user gave us without letting it reach inside our network.

Image URLs and webhook deliveries both go through ``fetch``. The guard:

- https only (http too when ``FETCH_ALLOW_HTTP``, for development and tests);
- the host is resolved here, and every address it resolves to must be a public
  one: private, loopback, link-local, multicast, reserved, unique-local,
  shared (carrier NAT) and cloud metadata addresses are refused, in IPv4, IPv6
  and IPv4-mapped IPv6 alike;
- the connection goes to the address that was checked (the TLS certificate
  is still checked against the host name), so a second DNS answer cannot
  point it elsewhere;
- redirects are followed by hand, each hop checked again (``FETCH_MAX_REDIRECTS``);
- the body is read in chunks and reading stops past the size limit, and the
  whole exchange (connect, redirects, body) has one deadline: a timer closes
  the socket when it passes, however slowly the other side trickles bytes.

``FETCH_ALLOWED_NETWORKS`` lets tests reach their stand-in server on
127.0.0.1; production settings refuse to start with it set.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError

REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
USER_AGENT = "Picsort/1 (+fetch)"

# Not covered by is_global everywhere: metadata services and NAT64/6to4 ranges
# that can wrap an inner address.
_REFUSED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # link-local, AWS/GCP/Azure metadata 169.254.169.254
        "100.64.0.0/10",  # shared address space (Alibaba metadata 100.100.100.200)
        "192.0.0.0/24",  # IETF protocol assignments (Oracle metadata 192.0.0.192)
        "fd00:ec2::/32",  # AWS metadata over IPv6
        "64:ff9b::/96",  # NAT64: an IPv4 address in disguise
        "64:ff9b:1::/48",
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
        "192.88.99.0/24",  # 6to4 relay anycast
        "3fff::/20",  # documentation (RFC 9637), not yet known to every Python
    )
]


class FetchError(ApplicationError):
    """A URL that could not be fetched: its own reason, not the request's."""


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection goes to


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.FETCH_ALLOWED_NETWORKS]


def address_refused(address: str) -> bool:
    """True for any address that is not a public unicast one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowed_networks() if network.version == ip.version):
        return False
    if any(ip in network for network in _REFUSED_NETWORKS if network.version == ip.version):
        return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
        or (ip.version == 6 and ip.is_site_local)
    )


def _refused(url: str) -> FetchError:
    return FetchError(
        _("“%(url)s” points inside a private network; only public addresses can be fetched.")
        % {"url": _shown(url)},
        code="url_refused",
    )


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "…"


def url_check(url: str) -> _Target:
    """Parses, resolves and checks a URL; the target to connect to, or a FetchError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise FetchError(_("This is not a valid web address."), code="url_invalid") from error
    schemes = {"https", "http"} if settings.FETCH_ALLOW_HTTP else {"https"}
    if parts.scheme not in schemes:
        raise FetchError(
            _("Only https:// addresses can be fetched."), code="url_invalid", extra={"url": url}
        )
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise FetchError(
            _("This is not a valid web address (a host is needed, without a user name)."),
            code="url_invalid",
        )
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(
            _("The host “%(host)s” could not be found.") % {"host": host}, code="url_unreachable"
        ) from error
    addresses = [info[4][0] for info in infos]
    if not addresses or any(address_refused(a) for a in addresses):
        raise _refused(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(url, parts.scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the Host header keeps the name."""

    def __init__(self, target: _Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: _Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _Deadline:
    """One time limit for the whole exchange; closes the socket when it passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.timer: threading.Timer | None = None

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise self.error()
        return left

    def error(self) -> FetchError:
        return FetchError(
            _("The address took longer than %(seconds)s seconds to answer.")
            % {"seconds": f"{self.seconds:g}"},
            code="url_timeout",
            status=422,
        )

    def watch(self, connection) -> None:
        self.cancel()

        def close() -> None:
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

        self.timer = threading.Timer(max(0.0, self.ends - time.monotonic()), close)
        self.timer.daemon = True
        self.timer.start()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.ends


def fetch(
    url: str,
    *,
    max_bytes: int | None = None,
    seconds: float | None = None,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
    truncate: bool = False,
) -> Fetched:
    """The answer of a checked URL, redirects followed (each hop checked).
    Past ``max_bytes`` the body is refused (413), or cut there with ``truncate``
    (a webhook receiver's answer, which is only logged)."""
    max_bytes = settings.FETCH_MAX_BYTES if max_bytes is None else max_bytes
    deadline = _Deadline(settings.FETCH_TIMEOUT_SECONDS if seconds is None else seconds)
    try:
        for _hop in range(settings.FETCH_MAX_REDIRECTS + 1):
            target = url_check(url)
            answer = _exchange(target, deadline, method, body, headers, max_bytes, truncate)
            location = answer.headers.get("location")
            if not (follow_redirects and answer.status in REDIRECTS and location):
                return answer
            url = urljoin(target.url, location)
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, body = "GET", None
        raise FetchError(
            _("The address redirected more than %(count)d times.")
            % {"count": settings.FETCH_MAX_REDIRECTS},
            code="url_redirects",
            status=422,
        )
    finally:
        deadline.cancel()


def _exchange(target, deadline, method, body, headers, max_bytes, truncate) -> Fetched:
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, timeout=deadline.left())
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
    try:
        connection.connect()
        deadline.watch(connection)
        connection.request(method, target.path, body=body, headers=sent)
        response = connection.getresponse()
        declared = response.getheader("Content-Length")
        if not truncate and declared and declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes)
        data = bytearray()
        while chunk := response.read(min(CHUNK, max_bytes + 1 - len(data))):
            data += chunk
            if len(data) > max_bytes:
                if truncate:
                    del data[max_bytes:]
                    break
                raise _too_large(max_bytes)
        if deadline.passed:  # the timer closed the socket: the body is cut short
            raise deadline.error()
        answer = {k.lower(): v for k, v in response.getheaders()}
        return Fetched(target.url, response.status, answer, bytes(data))
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if deadline.passed or isinstance(error, TimeoutError):
            raise deadline.error() from error
        if isinstance(error, ssl.SSLError):
            reason = _("its secure connection could not be verified")
        else:
            reason = _("the connection failed")
        raise FetchError(
            _("The address could not be reached (%(reason)s).") % {"reason": reason},
            code="url_unreachable",
            status=422,
        ) from error
    finally:
        deadline.cancel()
        connection.close()


def _too_large(max_bytes: int) -> FetchError:
    return FetchError(
        _("The file at this address is larger than %(size)s MB.")
        % {"size": f"{max_bytes / 2**20:g}"},
        code="url_too_large",
        status=413,
    )


# Images at an address
# ------------------------------------------------------------------------------


def image_fetch(url: str) -> bytes:
    """The bytes of an image at a URL, or a FetchError: refused address, too big,
    too slow, an HTTP error, or not an image (sniffed from the bytes; the
    Content-Type header is not trusted)."""
    from core.images import image_sniff

    limit = min(settings.FETCH_MAX_BYTES, settings.UPLOAD_MAX_FILE_BYTES)
    answer = fetch(url, max_bytes=limit, headers={"Accept": "image/*"})
    if not 200 <= answer.status < 300:
        raise FetchError(
            _("The address answered with HTTP status %(status)d instead of an image.")
            % {"status": answer.status},
            code="url_http_error",
            status=422,
        )
    try:
        image_sniff(answer.body)
    except ApplicationError as error:
        raise FetchError(error.message, code=error.code, status=error.status) from error
    return answer.body


def url_file_name(url: str) -> str:
    """A name for what a URL holds: its last path segment, or its host."""
    parts = urlsplit(url)
    return parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname or url


def image_uploads_from_urls(*, url: str | None = None, urls: list[str] | None = None) -> list:
    """The uploads of a classify request that names images by address.

    One ``url`` is fetched now, so its failure is the request's answer with its
    own status (400 refused, 413 too big, 422 unreachable or too slow). Each of
    several ``urls`` is fetched when it is classified, and its failure is that
    image's alone, answered in ``errors`` like a bad file."""
    from core.uploads import Upload

    if url:
        return [Upload(url_file_name(url), image_fetch(url))]
    urls = list(urls or [])
    if len(urls) > settings.CLASSIFY_MAX_URLS:
        raise ApplicationError(
            _("At most %(max)d image addresses per request.") % {"max": settings.CLASSIFY_MAX_URLS},
            code="too_many_urls",
        )
    return [Upload(url_file_name(each), read=_fetched_once(each)) for each in urls]


def _fetched_once(url: str):
    kept: list[bytes] = []

    def read() -> bytes:
        if not kept:
            try:
                kept.append(image_fetch(url))
            except FetchError as error:
                # 413 would end the whole request: this address alone is too big.
                status = 422 if error.status == 413 else error.status
                raise FetchError(error.message, code=error.code, status=status) from error
        return kept[0]

    return read
