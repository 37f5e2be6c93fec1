"""Fake OpenAI-compatible upstream with a fixed think time, counting requests in flight, for the eval benchmark.

The connection handling of ``_upstream.py`` (uvloop + httptools, keep-alive, prebuilt answer); each chat request
is answered ``--latency-ms`` after it arrives (a timer, no thread, no sleep per request), so the server itself is
never the bottleneck. ``GET /stats`` returns ``{"requests", "peak_in_flight"}``; ``POST /stats/reset`` zeroes
them. Run: ``python benchmarks/_latency_upstream.py --port N --latency-ms 200`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import orjson
from _upstream import CHAT_RESPONSE, MODELS_RESPONSE, _Conn, _response, _serve

STATE = {"latency_s": 0.0, "in_flight": 0, "peak_in_flight": 0, "requests": 0}


class _Delayed(_Conn):
    """Answers chat requests after the configured latency; stats on ``/stats``."""

    def on_message_complete(self) -> None:
        transport = self.transport
        if transport is None:
            return
        if self.url.startswith(b"/stats"):
            if self.parser.get_method() == b"POST":
                STATE.update(in_flight=0, peak_in_flight=0, requests=0)
            body = {"requests": STATE["requests"], "peak_in_flight": STATE["peak_in_flight"]}
            transport.write(_response(orjson.dumps(body)))
            return
        if self.parser.get_method() == b"GET":
            transport.write(MODELS_RESPONSE)
            return
        STATE["requests"] += 1
        STATE["in_flight"] += 1
        STATE["peak_in_flight"] = max(STATE["peak_in_flight"], STATE["in_flight"])

        def answer() -> None:
            STATE["in_flight"] -= 1
            if not transport.is_closing():
                transport.write(CHAT_RESPONSE)

        if STATE["latency_s"] > 0:
            asyncio.get_running_loop().call_later(STATE["latency_s"], answer)
        else:
            answer()


def main(argv: list[str] | None = None) -> int:
    """Parse ``--port`` and ``--latency-ms``; serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    STATE["latency_s"] = args.latency_ms / 1000.0
    try:
        import uvloop

        uvloop.run(_serve(args.port, _Delayed))
    except ImportError:
        asyncio.run(_serve(args.port, _Delayed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
