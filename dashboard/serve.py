"""Serve the app with gunicorn (threads in a few worker processes): state lives in PostgreSQL."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class ZhengtuServer(BaseApplication):
    """Gunicorn application that builds the app with the factory in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Copy our options into gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the WSGI app (called once per worker)."""
        from dashboard.app import create_app

        return create_app().server


def serve(host: str, port: int, workers: int = 2, threads: int = 8) -> None:
    """Run until interrupted."""
    ZhengtuServer({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                   "worker_class": "gthread", "timeout": 120, "accesslog": "-",
                   "errorlog": "-", "loglevel": "warning"}).run()
