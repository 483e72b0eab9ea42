"""The production profile refuses unsafe settings and names the wrong one."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": secrets.token_hex(32),
    "PORTAL_PEPPER": secrets.token_hex(32),
    "PORTAL_ARGON2_MEMORY_KIB": "65536",
    "PORTAL_ARGON2_ITERATIONS": "3",
    "PORTAL_COOKIE_SECURE": "1",
}


def start(tmp_path, **changes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(GOOD, PORTAL_INSTANCE_PATH=str(tmp_path), PORTAL_DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3")
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_safe_production_settings_start(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("changes, named", [
    ({"PORTAL_SECRET_KEY": None}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_SECRET_KEY": "change-me"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_PEPPER": None}, "PORTAL_PEPPER"),
    ({"PORTAL_PEPPER": "00" * 32}, "PORTAL_PEPPER"),
    ({"PORTAL_PEPPER": "not-hex"}, "PORTAL_PEPPER"),
    ({"PORTAL_ARGON2_MEMORY_KIB": "8", "PORTAL_ARGON2_ITERATIONS": "1"}, "PORTAL_ARGON2"),
    ({"PORTAL_ARGON2_ITERATIONS": "1"}, "PORTAL_ARGON2"),
    ({"PORTAL_COOKIE_SECURE": "0"}, "PORTAL_COOKIE_SECURE"),
])
def test_unsafe_production_settings_refuse_to_start(tmp_path, changes, named):
    result = start(tmp_path, **changes)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_development_generates_secrets_once_under_instance(tmp_path, monkeypatch):
    from config import load_settings

    for key in list(os.environ):
        if key.startswith("PORTAL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    first, second = load_settings(), load_settings()
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64
    assert first.pepper == second.pepper and len(first.pepper) == 32
    assert (tmp_path / "pepper").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'tillit.sqlite3'}"
