"""Who may talk to the studio: a loopback Host (no DNS rebinding) and a same-origin page (no CSRF).

The studio has no login, so a web page on another site must not be able to drive it through the
user's browser. Two checks, both in one ASGI middleware that never reads the request body:

- every request's ``Host`` must name this machine's loopback interface (``127.0.0.1``,
  ``localhost``, ``[::1]``) or a host the user chose (``--host`` / ``studio.allowed_hosts``), with
  no port or the server's own port. A rebound DNS name (``evil.com`` -> 127.0.0.1) is refused.
- a state-changing request (anything but GET/HEAD/OPTIONS) must come from the studio's own page:
  an ``Origin`` equal to ``http://<Host>``, or, without Origin, no ``Sec-Fetch-Site`` other than
  ``same-origin``/``none``. Clients that send neither (curl, scripts) are not browsers and pass.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SAME_ORIGIN_FETCH = {"same-origin", "none"}
Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def host_and_port(value: str) -> tuple[str, int | None]:
    """``"localhost:7860"`` -> ("localhost", 7860); ``"[::1]:80"`` -> ("::1", 80); bad port -> -1."""
    parts = urlsplit(f"//{value.strip()}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    return (parts.hostname or "").lower(), port


def allowed_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names plus the user's own (``--host`` and ``studio.allowed_hosts``), without brackets."""
    names = [*LOOPBACK_HOSTS, *(h.strip().strip("[]").lower() for h in extra if h.strip())]
    return frozenset(n for n in names if n not in ("0.0.0.0", "::"))  # "all interfaces" is not a name


def check_request(method: str, headers: dict[str, str], hosts: frozenset[str], server_port: int | None) -> str:
    """Why this request is refused ("" when it may proceed)."""
    host_header = headers.get("host", "")
    host, port = host_and_port(host_header)
    if host not in hosts or port not in (None, server_port):
        return f"host {host_header[:80]!r} is not allowed (the studio answers only on {', '.join(sorted(hosts))})"
    if method.upper() in SAFE_METHODS:
        return ""
    origin = headers.get("origin")
    if origin is not None:
        o = urlsplit(origin)
        if o.scheme not in ("http", "https") or host_and_port(o.netloc) != (host, port):
            return f"cross-site request refused (Origin {origin[:80]!r} is not this studio)"
        return ""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in SAME_ORIGIN_FETCH:
        return f"cross-site request refused (Sec-Fetch-Site: {site[:40]})"
    return ""


class HostOriginGuard:
    """ASGI middleware answering 403 ``{"detail": ...}`` to requests ``check_request`` refuses."""

    def __init__(self, app: ASGIApp, extra_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.hosts = allowed_hosts(extra_hosts)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        server = scope.get("server") or (None, None)
        reason = check_request(scope.get("method", "GET"), headers, self.hosts, server[1])
        if not reason:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": reason}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
