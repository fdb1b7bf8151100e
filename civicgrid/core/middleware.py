"""Server-Timing: how long the server spent on each response, for the browser's devtools and for
bench/pages.py, which records the page-time figures of docs/benchmarks.md from this header."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def server_timing(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        # Streaming responses (files) are timed until their headers are ready, which is what matters here.
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response

    return middleware
