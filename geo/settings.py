"""Typed settings, read from the environment once by whoever builds the app or runs the CLI.

Modules never read ``os.environ`` at import time: tests build their own ``Settings`` and pass them down.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running Zhengtu."""

    database_url: str | None = None
    app_database_url: str | None = None  # the web app's own login (zhengtu_app); optional
    home: Path = field(default_factory=lambda: PROJECT_ROOT / ".zhengtu")
    base_map_url: str | None = None
    basemaps: tuple[dict, ...] = ()  # [{"id", "name", "url", "crs": "wgs84"|"cgcs2000"|"gcj02"}]
    statement_timeout_ms: int = 30_000
    pool_max: int = 8
    secure_cookies: bool = False  # set ZHENGTU_SECURE_COOKIES=1 behind HTTPS
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    evidence_root: Path | None = None  # default: <home>/evidence
    evidence_max_bytes: int = 200 * 1024 * 1024

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files are stored (content-addressed; never edited in place)."""
        return self.evidence_root or self.home / "evidence"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``ZHENGTU_*`` and ``DATABASE_URL`` variables."""
        env = dict(os.environ if env is None else env)
        home = env.get("ZHENGTU_HOME")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            app_database_url=env.get("ZHENGTU_APP_DATABASE_URL") or None,
            home=Path(home) if home else PROJECT_ROOT / ".zhengtu",
            base_map_url=env.get("ZHENGTU_BASEMAP_URL") or None,
            basemaps=tuple(json.loads(env.get("ZHENGTU_BASEMAPS") or "[]")),
            statement_timeout_ms=int(env.get("ZHENGTU_STATEMENT_TIMEOUT_MS", "30000")),
            pool_max=int(env.get("ZHENGTU_POOL_MAX", "8")),
            secure_cookies=env.get("ZHENGTU_SECURE_COOKIES", "") in ("1", "true", "yes"),
            session_idle_minutes=int(env.get("ZHENGTU_SESSION_IDLE_MINUTES", "30")),
            session_max_hours=int(env.get("ZHENGTU_SESSION_MAX_HOURS", "12")),
            evidence_root=Path(env["ZHENGTU_EVIDENCE_DIR"]) if env.get("ZHENGTU_EVIDENCE_DIR") else None,
            evidence_max_bytes=int(env.get("ZHENGTU_EVIDENCE_MAX_MB", "200")) * 1024 * 1024,
        )
