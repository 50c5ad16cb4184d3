"""`unisono serve`: the web UI over one model, loaded once (thin over `unisono.webui`)."""

from __future__ import annotations

import argparse

from unisono.errors import UnisonoError


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from unisono.webui import build_app, launch
    except ImportError as err:
        raise UnisonoError(
            f"the web UI needs the [serve] extra ({err}); install it with "
            "`pip install 'unisono[serve]'`."
        ) from err
    from unisono.pipeline import Unisono

    if args.queue_size < 1:
        raise UnisonoError(f"--queue-size {args.queue_size}: give at least 1.")
    model = Unisono.from_pretrained(args.model)
    launch(build_app(model, queue_size=args.queue_size), host=args.host, port=args.port)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve`."""
    serve = subparsers.add_parser(
        "serve", help="the web UI (gradio): generate, speech, edit, restore, caption / ask",
    )
    serve.add_argument("--model", default=None, help="model folder (default: shipped model)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (0.0.0.0: every interface); default 127.0.0.1")
    serve.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    serve.add_argument(
        "--queue-size", type=int, default=8,
        help="requests held at once, the running one included; more are told the server is "
             "busy (default 8)",
    )
    serve.set_defaults(func=_run_serve)
