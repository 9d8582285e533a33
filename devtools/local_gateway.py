"""Make Chalice's local gateway behave like API Gateway + Lambda in two respects.

1. Greedy paths. API Gateway sends any path that matches no resource to a greedy
   ``/{proxy+}`` resource; Chalice's local route matcher (used by ``chalice local`` and
   ``chalice.test.Client``) only matches paths with the same number of segments and
   answers 403 "Missing Authentication Token" otherwise. With :class:`GreedyRouteMatcher`
   unknown multi-segment paths get our 404 problem locally too.
2. One request at a time. A Lambda container serves one invocation at a time, and
   Chalice relies on it: ``app.current_request`` is a plain attribute. The local dev
   server is threaded, so two browser requests at once could read each other's request.
   Serialising the gateway restores Lambda's model.
3. Client addresses (tests only). API Gateway reports the caller's address in
   ``requestContext.identity.sourceIp``; the local gateway always says 127.0.0.1. A test
   may send ``X-Test-Source-Ip`` to play a client at another address (rate limits and
   lockout are per address). Only this dev patch reads that header.
4. Every method reaches the app. The local dev server knows only the methods Chalice
   routes and answers any other (``TRACE``, ``QUERY``…) with its own HTML 501, a server
   error API Gateway never gives for a client's method. Here it goes through the gateway
   like the rest, so the app answers 405 ``method_not_allowed`` as for any method a
   route lacks.
"""

from __future__ import annotations

import functools
import threading
from typing import Any
from urllib.parse import parse_qs, urlparse

import chalice.local
from chalice.local import ChaliceRequestHandler, LambdaEventConverter, LocalGateway, MatchResult, RouteMatcher

_one_at_a_time = threading.Lock()
TEST_ADDRESS_HEADER = "x-test-source-ip"


class GreedyRouteMatcher(RouteMatcher):
    def match_route(self, url: str) -> MatchResult:
        try:
            return super().match_route(url)
        except ValueError:
            parsed = urlparse(url)
            for route in self.route_urls:
                prefix = route[: -len("{proxy+}")]
                if route.endswith("/{proxy+}") and parsed.path.startswith(prefix) and len(parsed.path) > len(prefix):
                    query = parse_qs(parsed.query, keep_blank_values=True)
                    return MatchResult(route, {"proxy": parsed.path[len(prefix) :]}, query)
            raise


def _any_method(handler: ChaliceRequestHandler, name: str) -> Any:
    """``do_<METHOD>`` for methods the dev server does not define (see 4. above)."""
    if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
        return handler._generic_handle
    raise AttributeError(name)


def install() -> None:
    """Patch Chalice's local gateway (idempotent); call before creating clients or servers."""
    chalice.local.RouteMatcher = GreedyRouteMatcher  # type: ignore[misc]
    ChaliceRequestHandler.__getattr__ = _any_method
    if getattr(LocalGateway.handle_request, "_serialised", False):
        return
    original = LocalGateway.handle_request

    @functools.wraps(original)
    def handle_request(self: LocalGateway, *args: Any, **kwargs: Any) -> Any:
        with _one_at_a_time:
            return original(self, *args, **kwargs)

    handle_request._serialised = True  # type: ignore[attr-defined]
    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]

    create_event = LambdaEventConverter.create_lambda_event

    def create_lambda_event(
        self: LambdaEventConverter, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> Any:
        event = create_event(self, method, path, headers, body)
        address = {k.lower(): v for k, v in headers.items()}.get(TEST_ADDRESS_HEADER)
        if address:
            event["requestContext"]["identity"]["sourceIp"] = address
        return event

    LambdaEventConverter.create_lambda_event = create_lambda_event  # type: ignore[method-assign]
