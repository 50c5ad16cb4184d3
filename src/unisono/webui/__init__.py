"""The web UI (`unisono serve`): a gradio app around one loaded model, one tab per task family.

Needs the [serve] extra (gradio, matplotlib). Nothing in it reaches the internet: analytics are
off, there is no share link, and the page loads only from the local server.
"""

from unisono.webui.app import build_app
from unisono.webui.serving import BUSY_MESSAGE, BoundedQueue, bound_queue, launch

__all__ = ["BUSY_MESSAGE", "BoundedQueue", "bound_queue", "build_app", "launch"]
