"""Benchmark: what cleaning one image costs in memory and time, by pixels.

Decoding costs with the pixel count, not the file size, so a small file can
claim a huge picture. For each case an image is made here (flat colour, so
the file stays small), written with metadata, and cleaned in a fresh child
process through attachments.cleaning.clean_file; the child prints its peak
RSS growth over the moment before cleaning (VmHWM after the high-water mark
was reset through /proc/self/clear_refs) and the time taken.

Target: no single image above 256 MiB of peak growth; pictures over
images.DECODE_MAX_PIXELS are not decoded (JPEG and PNG keep their pixels
and lose their metadata; others are refused), so they cost about one copy
of the file. At most images.DECODING_AT_ONCE decode at a time per process,
so a process's cleaning memory stays under that many times the target.

Run from the repository root:
    .venv/bin/python bench/cleaning.py
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from machine_facts import figure  # bench/, beside this script
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
TARGET_MIB = 256
CASES = [("PNG", "RGBA", 4000, 3000), ("PNG", "RGBA", 6000, 4000), ("PNG", "RGBA", 8000, 8000),
         ("JPEG", "RGB", 4000, 3000), ("JPEG", "RGB", 6000, 4000), ("JPEG", "RGB", 12000, 9000),
         ("WEBP", "RGB", 4000, 3000), ("WEBP", "RGB", 6000, 4000), ("GIF", "P", 6000, 4000)]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from portal.attachments.cleaning import clean_file

def vm(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
before = vm("VmRSS:")
start = time.perf_counter()
result = clean_file(sys.argv[1], data)
took = time.perf_counter() - start
print(json.dumps({"peak": vm("VmHWM:") - before, "seconds": took, "cleaned": result.cleaned,
                  "warning": result.warning}))
"""


def _made(fmt, mode, width, height) -> bytes:
    image = Image.new(mode, (width, height), 7 if mode == "P" else (20, 160, 40, 255)[:len(mode)])
    out = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "Bench Person")
        image.save(out, fmt, pnginfo=info)
    else:
        image.save(out, fmt, **({"comment": b"Bench Person"} if fmt in ("JPEG", "GIF") else {}))
    return out.getvalue()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from portal.attachments.cleaning import images

    print(f"decode cap {images.DECODE_MAX_PIXELS / 1e6:.0f} MP, {images.DECODING_AT_ONCE} decodes at a time, "
          f"target {TARGET_MIB} MiB peak per image")
    print(f"{'format':6} {'pixels':>11} {'file KiB':>9} {'peak MiB':>9} {'seconds':>8}  result")
    worst = 0
    with tempfile.TemporaryDirectory() as folder:
        for fmt, mode, width, height in CASES:
            path = Path(folder) / f"bench.{fmt.lower()}"
            path.write_bytes(_made(fmt, mode, width, height))
            run = subprocess.run([sys.executable, "-c", CHILD, str(path), str(ROOT)], capture_output=True,
                                 text=True, check=True)
            got = json.loads(run.stdout)
            worst = max(worst, got["peak"])
            how = "cleaned" if got["cleaned"] else f"kept as is: {got['warning']}"
            print(f"{fmt:6} {f'{width}x{height}':>11} {path.stat().st_size // 1024:>9} "
                  f"{got['peak'] / MIB:>9.0f} {got['seconds']:>8.2f}  {how}")
    print(f"worst peak {worst / MIB:.0f} MiB (target < {TARGET_MIB}): "
          f"{'met' if worst < TARGET_MIB * MIB else 'MISSED'}")
    figure("cleaning one image: worst peak memory", f"{worst / MIB:.0f} MiB", f"< {TARGET_MIB} MiB",
           worst < TARGET_MIB * MIB)


if __name__ == "__main__":
    main()
