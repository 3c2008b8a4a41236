"""File-level facts for run provenance: streamed SHA-256 of input files, the host's CPU and memory.

Hashing reads every file in 1 MiB blocks (constant memory). Large data sets are capped: after
`max_bytes` in total, further files are listed with their size only (`sha256: null`), so
starting a run never waits minutes on hashing.
"""

import hashlib
import os
import platform
from pathlib import Path

BLOCK = 1 << 20
MAX_HASH_BYTES = 2 << 30  # 2 GiB hashed per run (a few seconds); larger inputs get sizes only


def sha256_file(path, block=BLOCK):
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(paths, max_bytes=MAX_HASH_BYTES):
    """SHA-256 and size of each file until `max_bytes` have been hashed, then sizes only.

    Returns:
        dict with `files` ([{path, bytes, sha256}] in the given order), `hashed_bytes`,
        `unhashed_files` (count beyond the cap) and `cap_bytes`.
    """
    files, hashed, skipped = [], 0, 0
    for path in paths:
        path = Path(path)
        size = path.stat().st_size
        digest = None
        if hashed + size <= max_bytes:
            digest = sha256_file(path)
            hashed += size
        else:
            skipped += 1
        files.append({"path": str(path), "bytes": int(size), "sha256": digest})
    return {"files": files, "hashed_bytes": hashed, "unhashed_files": skipped, "cap_bytes": int(max_bytes)}


def cpu_name():
    """The CPU model name (Linux /proc/cpuinfo, else `platform.processor()`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags (Linux `cpuinfo`: "flags" on x86, "Features" on ARM; lower
    case), or None where the platform does not list them."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            if line.lower().startswith(("flags", "features")):
                return frozenset(line.split(":", 1)[1].lower().split())
    except OSError:
        pass
    return None


def memory_bytes():
    """Total physical memory in bytes, or None when the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None
