"""Serving the web UI: a queue with a hard bound, and the launch without any internet access.

gradio's `queue(max_size=N)` counts only the requests still waiting: with one running it holds
N + 1, and whether the (N + 1)-th request of a burst is refused depends on whether the first
has left the waiting line yet. `BoundedQueue` counts the running requests too, so a bound of N
means N requests in the server at once, whatever the timing; the next one is refused at once
with HTTP 503 and `BUSY_MESSAGE` (gradio's own page shows "This application is currently busy.
Please try again.", gradio_client raises "Queue is full! Please try again.").
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr
from gradio import queueing

from unisono.errors import UnisonoError

MODEL_CONCURRENCY_ID = "unisono-model"
BUSY_MESSAGE = (
    "The server is busy: {held} requests are already running or waiting (the limit is {limit}). "
    "Try again in a minute."
)


class BoundedQueue(queueing.Queue):
    """gradio's queue with `max_size` bounding running and waiting requests together."""

    def held(self) -> int:
        """Requests in the server: waiting in line plus running."""
        running = sum(len(job) for job in self.active_jobs if job is not None)
        return len(self) + running

    async def push(self, body: Any, request: Any, username: str | None) -> tuple[bool, Any, str]:
        """Refuse a request when `max_size` are held; otherwise gradio's own push.

        No `await` comes between the count and gradio's append, so a burst of requests on the
        server's event loop cannot overshoot the bound.
        """
        held = self.held()
        if self.max_size is not None and held >= self.max_size:
            return False, BUSY_MESSAGE.format(held=held, limit=self.max_size), "queue_full"
        return await super().push(body, request, username)


def bound_queue(demo: gr.Blocks, size: int) -> gr.Blocks:
    """Queue `demo`'s events, one model call at a time, at most `size` requests held.

    Args:
        demo: the app.
        size: requests held at once, the running one included (>= 1).
    """
    if size < 1:
        raise UnisonoError(f"queue size {size}: give at least 1 (requests held at once).")
    demo.queue(max_size=size, default_concurrency_limit=1)
    # The queue object is gradio's own, with the bound counted our way (see the module header).
    if type(demo._queue) is not queueing.Queue:
        raise UnisonoError(
            f"this gradio ({gr.__version__}) has a queue of type {type(demo._queue).__name__}; "
            "install the version pinned in the [serve] extra."
        )
    demo._queue.__class__ = BoundedQueue
    return demo


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860,
           block: bool = True) -> str:
    """Start the server (no share link, no analytics, no server-side rendering).

    Args:
        demo: the app from `build_app`.
        host: the address to listen on (0.0.0.0 for every interface).
        port: the TCP port.
        block: wait until interrupted (Ctrl-C); False returns once the server is up.

    Returns:
        The local URL.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        _, local_url, _ = demo.launch(
            server_name=host, server_port=port, share=False, prevent_thread_lock=True,
            ssr_mode=False, show_error=True, quiet=True, max_file_size="100mb",
            mcp_server=False, pwa=False,
        )
    except OSError as err:
        raise UnisonoError(
            f"cannot listen on {host}:{port} ({err}); pick another --port or stop the program "
            "using it."
        ) from err
    if block:
        print(f"Unisono web UI on {local_url} (Ctrl-C stops it)", flush=True)
        try:
            demo.block_thread()
        finally:
            demo.close()
    return local_url
