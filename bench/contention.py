"""Benchmark: report submissions per second with one and with four
concurrent clients, in one process (threads through Flask's test client),
SQLite in a temporary folder, the production Argon2id parameters, the rate
limiter off. On 2 cores four clients should reach close to
cores / Argon2id time; one submission at a time (a lock held across the
Argon2id) shows as four clients doing no better than one.

Run from the repository root:
    .venv/bin/python bench/contention.py [submissions per client]   (default 6)
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from machine_facts import figure  # noqa: E402  (bench/, beside this script)

FIELDS = {"category": "reporting_burden", "chain_level": "management", "today": "x", "change": "y",
          "time_lost": "1to3"}


def main() -> None:
    from crypto.kdf import Argon2Params
    from portal import create_app
    from portal.models.base import Base
    from portal.web.db import make_engine
    from support import csrf_token_from, make_settings, seed_channels

    each = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/bench.sqlite3"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(make_settings(folder, url, argon2=Argon2Params.PRODUCTION))
    session = app.extensions["tillit.db"].sessionmaker()
    seed_channels(session, app.config["TILLIT"])
    session.close()

    def submit_one(client) -> None:
        html = client.get("/report/obstacle?category=reporting_burden&chain_level=management").get_data(as_text=True)
        data = {**FIELDS, "csrf_token": csrf_token_from(html),
                "nonce": re.search(r'name="nonce"[^>]*value="([^"]*)"', html).group(1),
                "channel_shown": re.search(r'name="channel_shown"[^>]*value="([^"]*)"', html).group(1)}
        response = client.post("/report/obstacle", data=data, content_type="multipart/form-data")
        assert response.status_code == 302, response.status_code

    def rate(clients: int, count: int) -> float:
        threads = [threading.Thread(target=lambda: [submit_one(app.test_client()) for _ in range(count)])
                   for _ in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return clients * count / (time.perf_counter() - start)

    rate(1, 2)  # warm-up
    one, four = rate(1, 2 * each), rate(4, each)
    print(f"machine: {os.cpu_count()} CPUs; Argon2id {Argon2Params.PRODUCTION}")
    print(f"1 client:  {one:.2f} submissions/s")
    print(f"4 clients: {four:.2f} submissions/s ({four / one:.2f} x one client)")
    # On 2 cores four clients should come close to twice one: nothing serialises the Argon2id.
    figure("SQLite, 4 concurrent clients / 1 client", f"{four / one:.2f} x ({four:.1f} submissions/s)",
           f">= {0.8 * min(4, os.cpu_count() or 1):.1f} x", four / one >= 0.8 * min(4, os.cpu_count() or 1))


if __name__ == "__main__":
    main()
