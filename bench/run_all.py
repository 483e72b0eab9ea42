"""`make bench`: every bench script on a fresh clone of the committed code,
their figures beside their targets written into docs/benchmarks.md.

The clone (of HEAD, in a temporary folder) is what gets measured, so the
figures belong to a commit, not to whatever the working tree holds; the
scripts run with this checkout's virtual environment. Each prints its
figures as `figure: name | value | target | verdict` lines
(machine_facts.figure); they are gathered into the section between the
`make bench` markers at the top of docs/benchmarks.md, with the machine, the
commit and each script's whole output. The hand-written history below the
markers is left as it is.

Run from the repository root:
    .venv/bin/python bench/run_all.py [--only SCRIPT ...] [--no-write]    (or: make bench)
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import machine_facts  # noqa: E402

BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"
# In the order they run, with the arguments `make bench` gives them; the
# time limit is generous (each takes a few minutes at most on 2 cores).
SCRIPTS = (
    ("crypto_kdf.py", ["7"]),
    ("crypto_stream.py", ["256"]),
    ("submit.py", []),
    ("contention.py", []),
    ("upload.py", ["200"]),
    ("cleaning.py", []),
    ("audit_append.py", ["--url", "postgresql+psycopg://postgres@127.0.0.1:5432/test"]),
    ("inbox.py", ["--cases", "100000"]),
    ("inbox.py", ["--cases", "1000000", "--runs", "20"]),
    ("insights.py", []),
    ("load.py", []),
)
TIME_LIMIT = 1800


@dataclass
class Outcome:
    script: str
    arguments: list[str]
    returncode: int
    seconds: float
    output: str

    @property
    def figures(self) -> list[list[str]]:
        return [[part.strip() for part in line[len("figure:"):].split("|")]
                for line in self.output.splitlines() if line.startswith("figure:")]


def clone() -> tuple[Path, str]:
    folder = Path(tempfile.mkdtemp(prefix="tillit-bench-clone-"))
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(folder)], check=True)
    commit = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=folder, capture_output=True, text=True,
                            check=True).stdout.strip()
    # Compiled catalogs are not in git: the pages render as they would deployed.
    for po in folder.glob("portal/translations/*/LC_MESSAGES/messages.po"):
        subprocess.run([str(Path(sys.executable).with_name("pybabel")), "compile", "--use-fuzzy", "-i", str(po),
                        "-o", str(po.with_suffix(".mo"))], check=True, capture_output=True)
    return folder, commit


def run(folder: Path, script: str, arguments: list[str]) -> Outcome:
    print(f"== {script} {' '.join(arguments)}", flush=True)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(folder)}
    try:
        finished = subprocess.run([sys.executable, str(folder / "bench" / script), *arguments], cwd=folder,
                                  env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
        code, output = finished.returncode, finished.stdout + (finished.stderr if finished.returncode else "")
    except subprocess.TimeoutExpired as expired:
        code, output = -1, f"{expired.stdout or ''}\n(stopped after {TIME_LIMIT} s)"
    outcome = Outcome(script, arguments, code, time.perf_counter() - start, output)
    for name, value, target, verdict in ((f + ["", "", ""])[:4] for f in outcome.figures):
        print(f"   {name}: {value}" + (f"  (target {target}: {verdict})" if target else ""), flush=True)
    if code:
        print(f"   exit {code}:\n{output[-2000:]}", flush=True)
    return outcome


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def section(outcomes: list[Outcome], commit: str, machine: str, started: dt.datetime) -> str:
    lines = [BEGIN, "## Latest `make bench` run", "",
             f"{started:%Y-%m-%d %H:%M} UTC, commit {commit}; {machine}; "
             f"PostgreSQL and Redis on the same host. Written by `bench/run_all.py`: do not edit by hand "
             f"between the markers. Targets come from the issues and the design; a figure without a "
             f"target is context for the others.", "",
             "| script | figure | measured | target | |", "|---|---|---|---|---|"]
    for outcome in outcomes:
        if outcome.returncode:
            lines.append(f"| `{outcome.script}` | **did not finish** (exit {outcome.returncode}) | | | |")
        for name, value, target, verdict in ((f + ["", "", ""])[:4] for f in outcome.figures):
            mark = {"met": "met", "NOT met": "**not met**"}.get(verdict, "")
            lines.append(f"| `{outcome.script}` | {_cell(name)} | {_cell(value)} | {_cell(target)} | {mark} |")
    lines += ["", "Each script's whole output:", ""]
    for outcome in outcomes:
        lines += [f"<details><summary><code>bench/{outcome.script} {' '.join(outcome.arguments)}</code> "
                  f"({outcome.seconds:.0f} s)</summary>", "", "```", outcome.output.rstrip(), "```", "",
                  "</details>", ""]
    lines.append(END)
    return "\n".join(lines)


def write(text: str, document: Path) -> None:
    current = document.read_text()
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        document.write_text(head + text + tail)
        return
    title, _, body = current.partition("\n")
    document.write_text(f"{title}\n\n{text}\n{body}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run these scripts only (e.g. load.py); nothing is written")
    parser.add_argument("--no-write", action="store_true", help="print, but leave docs/benchmarks.md alone")
    args = parser.parse_args()
    started = dt.datetime.now(dt.timezone.utc)
    folder, commit = clone()
    print(f"measuring {commit} in {folder}", flush=True)
    chosen = [(s, a) for s, a in SCRIPTS if not args.only or s in args.only]
    try:
        outcomes = [run(folder, script, arguments) for script, arguments in chosen]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not (args.no_write or args.only):
        write(section(outcomes, commit, machine_facts.describe(), started), ROOT / "docs" / "benchmarks.md")
        print("written: docs/benchmarks.md")
    sys.exit(1 if any(o.returncode for o in outcomes) else 0)


if __name__ == "__main__":
    main()
