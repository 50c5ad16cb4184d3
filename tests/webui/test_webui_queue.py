"""The served app: with a queue bound of 8, a burst of 9 requests gives 8 results and one clear
"busy" answer (gradio_client and raw HTTP), never a hang; and the `serve` command's options."""

import argparse
import threading
import time
import uuid

import httpx
import numpy as np
import pytest
import soundfile as sf
from webui_fixtures import running

from unisono.cli import serve as serve_cli
from unisono.errors import UnisonoError
from unisono.webui import build_app, serving


class GatedModel:
    """The tiny model whose `generate` waits for the test to open a gate (a slow model whose
    slowness the test controls, so the burst is sure to arrive while the first call runs)."""

    def __init__(self, model) -> None:
        self.model = model
        self.gate = threading.Event()
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def generate(self, *args, **kwargs):
        self.calls += 1
        if not self.gate.wait(timeout=120):
            raise RuntimeError("the test never opened the gate")
        return self.model.generate(*args, **kwargs)


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_full_queue_answers_busy_and_the_admitted_requests_complete(webui_model, tmp_path):
    from gradio_client import Client

    model = GatedModel(webui_model)
    demo = build_app(model, queue_size=8)
    with running(demo) as url:
        clients = [Client(url, verbose=False, analytics_enabled=False,
                          download_files=str(tmp_path / f"client{i}")) for i in range(9)]
        jobs = [client.submit(f"a bell rings {i}", "t2a", 0.5, 2, 1.0, i, api_name="/generate")
                for i, client in enumerate(clients)]
        _wait_for(lambda: sum(job.done() for job in jobs) == 1)  # the refused one, at once
        [refused] = [job for job in jobs if job.done()]
        with pytest.raises(Exception, match="Queue is full! Please try again"):
            refused.result(timeout=5)
        _wait_for(lambda: model.calls == 1)  # the first one runs, held at the gate
        assert demo._queue.held() == 8

        # Raw HTTP while full: 503 and our message, not a hang.
        fn_index = next(i for i, fn in demo.fns.items() if fn.api_name == "generate")
        body = {"data": ["a cat", "t2a", 0.5, 2, 1.0, 0], "fn_index": fn_index,
                "session_hash": uuid.uuid4().hex[:10], "event_data": None, "trigger_id": None}
        response = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=10)
        assert response.status_code == 503
        assert "busy" in response.json()["detail"] and "Try again" in response.json()["detail"]

        model.gate.set()
        admitted = [job for job in jobs if job is not refused]
        for job in admitted:
            audio_path, image_path, used = job.result(timeout=120)
            audio, rate = sf.read(audio_path)
            assert rate == 16000 and len(audio) == 8000 and np.abs(audio).max() > 0
            assert used.startswith("[t2a, seed")
        assert model.calls == 8
        _wait_for(lambda: demo._queue.held() == 0, timeout=10)
        # Served in turn: a new request after the burst is accepted and runs.
        again = clients[0].predict("a dog", "t2a", 0.5, 2, 1.0, 0, api_name="/generate")
        assert sf.read(again[0])[0].shape == (8000,)
        for client in clients:
            client.close()


def test_queue_bound_must_be_positive(webui_model) -> None:
    with pytest.raises(UnisonoError, match="at least 1"):
        build_app(webui_model, queue_size=0)
    assert serving.BUSY_MESSAGE.format(held=8, limit=8).startswith("The server is busy")


def test_serve_command_options(monkeypatch, webui_model_dir) -> None:
    parser = argparse.ArgumentParser()
    serve_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--model", str(webui_model_dir)])
    assert (args.host, args.port, args.queue_size) == ("127.0.0.1", 7860, 8)
    with pytest.raises(SystemExit):  # no public share link is offered
        parser.parse_args(["serve", "--share"])
    launched = {}

    def fake_launch(demo, *, host, port):
        header = demo.get_config_file()["components"][0]["props"]["value"]
        launched.update(host=host, port=port, bound=demo._queue.max_size, header=header)
        return "http://x"

    monkeypatch.setattr("unisono.webui.launch", fake_launch)
    args = parser.parse_args(["serve", "--model", str(webui_model_dir), "--host", "0.0.0.0",
                              "--port", "9000", "--queue-size", "3"])
    assert args.func(args) == 0
    assert launched["host"] == "0.0.0.0" and launched["port"] == 9000 and launched["bound"] == 3
    assert "trained for: t2a, tts, tts_clone" in launched["header"]  # the folder's model
    args = parser.parse_args(["serve", "--model", str(webui_model_dir), "--queue-size", "0"])
    with pytest.raises(UnisonoError, match="at least 1"):
        args.func(args)
