"""Run the studio with uvicorn: in the foreground (CLI) or on a background thread (tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def make_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    return uvicorn.Server(config)


def serve(app: FastAPI, host: str, port: int) -> None:
    make_server(app, host, port).run()


def start_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int | None = None,
                    timeout: float = 20.0) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start a server on a daemon thread; returns (server, thread, base_url). Stop: ``server.should_exit = True``."""
    port = port or free_port(host)
    server = make_server(app, host, port)
    thread = threading.Thread(target=server.run, daemon=True, name="studio")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"studio did not start on {host}:{port}")
        time.sleep(0.05)
    return server, thread, f"http://{host}:{port}"
