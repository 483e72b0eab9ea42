"""Benchmark: Argon2id at production parameters, and a full handler login.

Run from the repository root:
    PYTHONPATH=. python bench/crypto_kdf.py [runs]
Prints figures only; nothing asserts on time.
"""

import os
import platform
import statistics
import sys
import time

from crypto import keys
from crypto.kdf import Argon2Params, argon2id
from machine_facts import figure  # bench/, beside this script


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    params = Argon2Params.PRODUCTION
    pepper, salt = os.urandom(32), os.urandom(16)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Argon2id m={params.memory_kib} KiB t={params.iterations} p={params.lanes}, median of {runs}")

    t = median_seconds(lambda: argon2id(b"correct horse battery", salt, pepper, params), runs)
    print(f"  argon2id:             {t * 1000:7.1f} ms")
    # The design's expectation: 0.2 to 0.3 s; faster hardware may go lower, never below the minimum parameters.
    figure("Argon2id (64 MiB, t=3), median", f"{t * 1000:.0f} ms", "0.1 to 0.5 s", 0.1 <= t <= 0.5)

    t = median_seconds(lambda: keys.derive_login("correct horse battery", salt, pepper, params), runs)
    print(f"  derive_login:         {t * 1000:7.1f} ms")

    new = keys.create_handler_keys("correct horse battery", "user-1", pepper, params)

    def unlock():
        keys.unlock_with_password(
            "correct horse battery",
            user_id="user-1",
            salt=new.salt,
            verifier=new.verifier,
            wrapped_private_key=new.private_key_wrapped_by_password,
            pepper=pepper,
            params=params,
        )

    t = median_seconds(unlock, runs)
    print(f"  unlock_with_password: {t * 1000:7.1f} ms")
    figure("handler password check (unlock_with_password)", f"{t * 1000:.0f} ms")


if __name__ == "__main__":
    main()
