"""Start TensorZero's embedded HTTP gateway from its wheel with a config file; print its URL, serve until killed."""

from __future__ import annotations

import sys
import time

import tensorzero  # type: ignore[import-not-found]  # lives in .bench-venv/tensorzero, not the project venv


def main() -> None:
    """Serve until the benchmark stops this process."""
    gateway = tensorzero._start_http_gateway(config_file=sys.argv[1], clickhouse_url=None, postgres_url=None,
                                             valkey_url=None, async_setup=False)
    print(gateway.base_url, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
