"""Benchmark: attachment encryption throughput and memory.

Encrypts SIZE MiB (default 256) from a generator into a null sink, through
encrypt_stream and through StreamEncryptor, then decrypts a framed file of
the same size from disk. Prints MiB/s and peak RSS growth over the baseline
(the format promises constant memory, target growth < 64 MiB).

Run from the repository root:
    PYTHONPATH=. python bench/crypto_stream.py [size_mib]
"""

import os
import platform
import resource
import sys
import tempfile
import time

from crypto.envelope import new_data_key
from crypto.stream import StreamEncryptor, decrypt_stream, encrypt_stream
from machine_facts import figure  # bench/, beside this script

MIB = 1024 * 1024
PIECE = 100_000  # upload pieces deliberately not aligned with 64 KiB chunks
BLOCK = os.urandom(MIB + PIECE)  # source material, allocated before the baseline


def pieces(total: int):
    """`total` bytes in PIECE-sized bytes objects, without holding them all."""
    sent, offset = 0, 0
    while sent < total:
        n = min(PIECE, total - sent)
        yield BLOCK[offset : offset + n]
        sent += n
        offset = (offset + n) % MIB


class GeneratorReader:
    """Minimal raw-file-like reader over a generator of pieces: like a socket,
    read(n) may return fewer than n bytes (encrypt_stream copes)."""

    def __init__(self, gen):
        self._gen, self._rest = gen, memoryview(b"")

    def read(self, n: int) -> bytes:
        if not self._rest:
            self._rest = memoryview(next(self._gen, b""))
        out, self._rest = self._rest[:n], self._rest[n:]
        return out


class NullSink:
    def __init__(self):
        self.bytes = 0

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(name: str, size: int, seconds: float, baseline: float) -> None:
    print(
        f"  {name:<32} {size / MIB / seconds:8.1f} MiB/s   "
        f"peak RSS {peak_rss_mib():6.1f} MiB (growth over baseline {peak_rss_mib() - baseline:5.1f} MiB)"
    )


def main() -> None:
    size = (int(sys.argv[1]) if len(sys.argv) > 1 else 256) * MIB
    dek = new_data_key()
    ids = dict(report_id="bench-report", attachment_id="bench-attachment")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    baseline = current_rss_mib()
    print(f"{size // MIB} MiB, baseline RSS {baseline:.1f} MiB, peak so far {peak_rss_mib():.1f} MiB")

    sink = NullSink()
    start = time.perf_counter()
    n = encrypt_stream(dek, GeneratorReader(pieces(size)), sink, **ids)
    seconds = time.perf_counter() - start
    report("encrypt_stream -> null", n, seconds, baseline)
    figure("attachment encryption throughput", f"{n / MIB / seconds:.0f} MiB/s")

    start = time.perf_counter()
    enc = StreamEncryptor(dek, **ids)
    sealed_bytes = 0
    for piece in pieces(size):
        sealed_bytes += sum(len(c) for c in enc.update(piece))
    sealed_bytes += sum(len(c) for c in enc.finalize())
    report("StreamEncryptor (chunks)", size, time.perf_counter() - start, baseline)

    with tempfile.TemporaryFile() as tmp:
        encrypt_stream(dek, GeneratorReader(pieces(size)), tmp, **ids)
        tmp.seek(0)
        start = time.perf_counter()
        n = decrypt_stream(dek, tmp, NullSink(), **ids)
        report("decrypt_stream file -> null", n, time.perf_counter() - start, baseline)
    print(f"  ciphertext overhead: {(sink.bytes - size) / size * 100:.3f} % framed, "
          f"{(sealed_bytes - size) / size * 100:.3f} % as chunk rows (+8-byte header)")
    growth = peak_rss_mib() - baseline
    figure(f"attachment encryption, {size // MIB} MiB: peak memory growth", f"{growth:.1f} MiB", "< 64 MiB",
           growth < 64)


if __name__ == "__main__":
    main()
