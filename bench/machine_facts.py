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
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        memory = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    parts = [f"{platform.machine()} {cpu}", f"{os.cpu_count()} CPUs", *([memory] if memory else []),
             f"Python {platform.python_version()}", *extras]
    return "machine: " + ", ".join(parts)


def figure(name: str, value: str, target: str = "", met: bool | None = None) -> None:
    """One figure on a line of its own, beside its target: `make bench`
    (bench/run_all.py) collects these lines into docs/benchmarks.md."""
    verdict = "" if met is None else ("met" if met else "NOT met")
    print(f"figure: {name} | {value} | {target} | {verdict}", flush=True)
