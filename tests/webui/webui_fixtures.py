"""Helpers: serve an app on a free local port for the length of a test."""

import contextlib
import socket
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(demo) -> Iterator[str]:
    """Serve `demo` on a free local port in this process; yield its URL; close it after."""
    from unisono.webui import launch

    url = launch(demo, host="127.0.0.1", port=free_port(), block=False)
    try:
        yield url.rstrip("/")
    finally:
        demo.close()
