"""What every benchmark records beside its figures: the machine, the commit, and the results file."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
from pathlib import Path


def machine_info() -> dict:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), None)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    versions = {}
    for pkg in ("moto", "chalice", "boto3", "pynamodb", "pydantic", "aws-lambda-powertools"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or model,
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": versions,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],  # other work on the machine skews figures
    }


def git_commit() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if head.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def finish(path: Path, report: dict, started: float, problems: list, render, **closing) -> int:
    """The end the cost, pay-later and ingest benchmarks share: the run's time (since ``started``, a
    ``time.monotonic()``), any other ``closing`` fields, peak memory and the verdict added to ``report``;
    written to ``path``, rendered to stdout; the exit status (0: no problems)."""
    import resource
    import time

    report.update(total_s=round(time.monotonic() - started, 1), **closing,
                  peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  ok=not problems, problems=problems)
    write(path, report)
    print(render(report))
    print(f"Results: {path}")
    return 0 if report["ok"] else 1
