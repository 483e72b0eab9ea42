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
    "PORTAL_ANCHOR_PUBLIC_KEYS": secrets.token_hex(32),
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
    ({"PORTAL_ANCHOR_PUBLIC_KEYS": None}, "PORTAL_ANCHOR_PUBLIC_KEYS"),
    ({"PORTAL_ANCHOR_PUBLIC_KEYS": "not-hex"}, "PORTAL_ANCHOR_PUBLIC_KEYS"),
    ({"PORTAL_ANCHOR_PUBLIC_KEYS": "abcd"}, "PORTAL_ANCHOR_PUBLIC_KEYS"),
    ({"PORTAL_ANCHOR_PUBLIC_KEYS": None, "PORTAL_ANCHOR_KEYS_FILE": "/nonexistent/anchor.pub"},
     "PORTAL_ANCHOR_KEYS_FILE"),
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
    # An anchor of its own, made once; its private key stays under instance/.
    assert first.anchor_public_keys == second.anchor_public_keys and len(first.anchor_public_keys) == 1
    assert (tmp_path / "anchor.key").stat().st_mode & 0o077 == 0


def test_anchor_keys_come_from_a_file_too(tmp_path, monkeypatch):
    from config import load_settings

    keys = [secrets.token_bytes(32), secrets.token_bytes(32)]
    path = tmp_path / "anchor.pub"
    path.write_text("# the organisation's anchor keys\n" + "\n".join(k.hex() for k in keys) + "\n")
    for key in list(os.environ):
        if key.startswith("PORTAL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PORTAL_ANCHOR_KEYS_FILE", str(path))
    assert load_settings().anchor_public_keys == tuple(keys)
    assert not (tmp_path / "anchor.key").exists()
