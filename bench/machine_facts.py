"""The machine line every bench script prints with its figures."""
from __future__ import annotations

import os
import platform


def describe(*extras: str) -> str:
    """"machine: <arch> <CPU model>, <n> CPUs, Python <version>[, extras]"."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    parts = [f"{platform.machine()} {cpu}", f"{os.cpu_count()} CPUs", f"Python {platform.python_version()}",
             *extras]
    return "machine: " + ", ".join(parts)
