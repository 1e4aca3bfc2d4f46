"""HTTP routes of the service itself: the health check a load balancer or a monitor calls."""

from __future__ import annotations

from chalice import Response

from shared.http.routing import PUBLIC, Routes, json_response

routes = Routes(__name__)


@routes.route("/health", methods=["GET"], requires=PUBLIC)
def health() -> Response:
    return json_response({"status": "ok"})
