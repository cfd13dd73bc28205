"""Run the fake OpenAI server until stopped: `python -m doctown.testing --latency 0.2`."""

from __future__ import annotations

import argparse
import signal
import threading

from doctown.testing.fake_openai import FakeOpenAIServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    parser.add_argument("--reasoning-tokens", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--request-log", default=None, help="append each request as a JSON line")
    args = parser.parse_args()
    server = FakeOpenAIServer(
        port=args.port,
        latency=args.latency,
        reasoning_tokens=args.reasoning_tokens,
        api_key=args.api_key,
        request_log=args.request_log,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        print(server.base_url, flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
