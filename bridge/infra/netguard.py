"""Outbound calls to merchant-supplied URLs reach public internet addresses only (no SSRF).

Checked twice: when a URL is given (`Guard.check_url`, a clear reason for the merchant) and again on the
address a connection actually opens (`Guard.session`), so a name that later resolves to 10.x (DNS
rebinding) is still refused. The check sits in urllib3's connection, below `HTTPAdapter.send`, so tests
that fake HTTP with `responses` never resolve anything.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

from bridge.infra.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]  # host, port -> IP addresses as text
MAX_REDIRECTS = 3
# Names that never lead to the public internet (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
_INTERNAL_NAMES = ("localhost", "local", "internal", "home.arpa", "localdomain")
_NUMERIC = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)  # what inet_aton may read as an IPv4 address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """A URL or address Relance must not call; the message is the reason, fit to show the merchant."""


class RefusedAddress(requests.exceptions.InvalidURL):
    """What a guarded session raises for a refused address: not a network failure, so nobody retries it."""


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` by the operating system's resolver."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def parse_address(host: str) -> Address | None:
    """`host` as an IP address, reading IPv4 the way connect() would (2130706433, 0x7f.1, 0177.0.0.1)."""
    text = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        pass
    if not _NUMERIC.fullmatch(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def refusal(address: Address) -> str | None:
    """Why an address is not a public internet one, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private network address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "an address outside the public internet"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _internal_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return "." not in name or any(name == n or name.endswith(f".{n}") for n in _INTERNAL_NAMES)


@dataclass(frozen=True)
class Guard:
    """Where outbound calls may go; `allow_private` (ALLOW_PRIVATE_NETWORK_URLS) lifts every check."""

    allow_private: bool = False
    resolve: Resolver = field(default=system_resolve, compare=False)

    def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for `host`; raises UnsafeTarget."""
        host = host.strip("[]")
        if self.allow_private:
            return [host]  # urllib3 resolves it as usual
        literal = parse_address(host)
        if literal is not None:
            found: list[Address] = [literal]
        elif _internal_name(host):
            raise UnsafeTarget(f"{host} is an internal host name, not a public internet address")
        else:
            try:
                found = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolve(host, port)]
            except (OSError, UnicodeError, ValueError):
                found = []
            if not found:
                raise UnsafeTarget(f"{host} does not resolve to an address")
        for address in found:
            reason = refusal(address)
            if reason is not None:
                raise UnsafeTarget(f"{host} {'is' if literal is not None else 'resolves to'} {reason}")
        return [str(a) for a in found]

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s) or whose host is not a public internet address."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            raise UnsafeTarget("the address is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not host:
            raise UnsafeTarget("the address must be an http(s) URL with a host")
        self.addresses(host, port or (443 if parts.scheme == "https" else 80))

    def session(self) -> requests.Session:
        """A requests session whose every connection (redirects included) goes to checked addresses."""
        session = GuardedSession()
        session.trust_env = False  # no proxy from the environment: it would connect for us, unchecked
        session.max_redirects = MAX_REDIRECTS
        adapter = GuardedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


def refused(exc: BaseException | None) -> bool:
    """True when a requests or urllib3 error comes from a guard refusing the address."""
    return isinstance(exc, RefusedAddress) or _unsafe(exc) is not None


def _unsafe(exc: BaseException | None) -> UnsafeTarget | None:
    """The guard's refusal inside an error: requests' > MaxRetryError (.reason) > NewConnectionError."""
    for _ in range(8):
        if exc is None or isinstance(exc, UnsafeTarget):
            return exc
        nested = exc.__cause__ or getattr(exc, "reason", None) or (exc.args[0] if exc.args else None)
        exc = nested if isinstance(nested, BaseException) else None
    return None


class _HasGuard(Protocol):
    settings: Settings
    guard: Guard | None


def guard_for(ctx: _HasGuard) -> Guard:
    """The context's guard: the injected one, else one by the ALLOW_PRIVATE_NETWORK_URLS setting."""
    return ctx.guard if ctx.guard is not None else Guard(ctx.settings.allow_private_network_urls)


class _GuardedConnection:
    """Mixed into urllib3's connections: connect only to addresses the guard accepts."""

    guard: Guard
    _dns_host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.guard.addresses(self._dns_host, self.port)
        except UnsafeTarget as exc:
            raise NewConnectionError(self, f"refused: {exc}") from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            try:
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
                sys.audit("http.client.connect", self, self._dns_host, self.port)
                return sock
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connection to {self._dns_host} timed out") from exc
            except OSError as exc:
                error = exc
        message = f"Failed to establish a new connection: {error}"
        raise NewConnectionError(self, message)  # type: ignore[arg-type]


class GuardedSession(requests.Session):
    """A session that raises RefusedAddress when its adapter's connection refused the address."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send as usual (redirects included); the check itself is in the connection, not here."""
        try:
            return super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            if refused(exc):
                raise RefusedAddress(f"refused: {_unsafe(exc)}", request=request) from exc
            raise


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connection pools open guarded connections only."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        """The usual pool manager, with pool classes whose connections check their address."""
        super().init_poolmanager(connections, maxsize, block, **kwargs)
        attrs = {"guard": self.guard}
        http = type("GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), attrs)
        https = type("GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """No proxies: a proxy would open the connection itself, past the check."""
        raise requests.exceptions.InvalidProxyURL("proxies are not used for merchant-supplied URLs")
