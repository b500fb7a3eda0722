"""Build the code artifacts the stack deploys, from the repository as it is.

- the *dependencies layer*: the runtime dependencies of ``pyproject.toml`` installed for Lambda's Linux,
  zipped once and cached by its recipe (it is large and changes rarely); a synthesis that builds no
  assets (the tests') stages only the recipe;
- the *shared layer*: the domain library ``shared/``, packaged once for every function;
- the *functions code*: ``functions/`` without the HTTP API, one asset for every plain handler;
- the *Chalice project*: a throw-away project directory around ``functions/api/app.py`` that Chalice's
  CDK construct packages.

Everything lands under ``cdk.out/.cache`` (git-ignored); concurrent builders (pytest workers, a
parallel ``make synth``) take a file lock per artifact.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "cdk.out" / ".cache"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # Chalice packages for this version too
PLATFORM = "manylinux2014_x86_64"
# Not shipped in the layer: the API's package carries Chalice's runtime, nothing else imports it.
NOT_IN_LAYER = ("chalice",)
# zoneinfo (Asia/Shanghai) needs an IANA database; Lambda's images do not promise /usr/share/zoneinfo.
LAMBDA_EXTRAS = ("tzdata==2026.6",)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def importable() -> None:
    """Puts the repository on the import path: the app is read from the code (Chalice's routes)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def runtime() -> str:
    return f"python{PYTHON}"


def requirements() -> list[str]:
    """The pinned runtime dependencies, read from ``[project].dependencies``, plus Lambda's extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [d for d in project["dependencies"] if not d.lower().startswith(NOT_IN_LAYER)] + list(LAMBDA_EXTRAS)


def tree_hash(*paths: Path) -> str:
    """A content hash of files and directories (names and bytes), ignoring caches."""
    digest = hashlib.sha256()
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prune(pattern: str, keep: Path, count: int = 2, min_age_s: float = 900) -> None:
    """Drops all but the newest ``count`` cached builds of one kind (the code changes all day); a build
    younger than ``min_age_s`` stays, as a concurrent synthesis may still be reading it."""
    old = sorted((p for p in CACHE.glob(pattern) if p != keep), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in old[count - 1 :]:
        if time.time() - path.stat().st_mtime < min_age_s:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


ZIP_LEVEL = 6


def _zip_dir(source: Path, target: Path) -> None:
    # Real modification times are kept: the bundled .pyc files are checked against them at import.
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source))


def _pip_install(pins: list[str], target: Path, *, compile_bytecode: bool = True) -> list[str]:
    """The command that installs ``pins`` for Lambda (Linux, x86_64, this Python) into ``target``."""
    return [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON,
            "--only-binary=:all:", *([] if compile_bytecode else ["--no-compile"]),
            "--target", str(target), *pins]  # fmt: skip


def dependencies_key() -> str:
    """What the dependencies layer is made of: the pins and how they are installed and zipped. It names the
    cached build, and the recipe's stand-in where the layer is not built (``dependencies_recipe``)."""
    recipe = [_pip_install(requirements(), Path("python"))[1:], "zip", ZIP_LEVEL]  # the interpreter's path aside
    return hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:16]


def install_dependencies(target: Path, *, compile_bytecode: bool = True) -> Path:
    """The layer's packages installed into ``target`` (its ``python/`` directory), as the layer builds them;
    without bytecode for a reader that only imports them once (the tests)."""
    result = subprocess.run(
        _pip_install(requirements(), target, compile_bytecode=compile_bytecode),
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"installing the layer's dependencies failed:\n{result.stdout}\n{result.stderr}")
    return target


def dependencies_layer() -> Path:
    """A zip with ``python/<packages>`` for Lambda (Linux, x86_64, this Python), built once per recipe."""
    target = CACHE / f"deps-{dependencies_key()}.zip"
    with _locked("deps"):
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            site = install_dependencies(Path(tmp) / "layer" / "python")
            partial = Path(tmp) / "deps.zip"
            _zip_dir(site.parent, partial)
            partial.replace(target)
        prune("deps-*.zip", keep=target)
    return target


def dependencies_recipe() -> Path:
    """The layer's stand-in where a synthesis builds no assets (``aws:cdk:bundling-stacks``): a directory
    with its ``requirements.txt``, staged under the hash of ``dependencies_key``. Never deployed: the
    templates around it are read by the tests (``infra.cdk.app.build(..., templates_only=True)``)."""
    return _write_tree("deps-recipe", {"requirements.txt": "\n".join(requirements()) + "\n"})


def _staged(name: str, key: str, fill: Callable[[Path], None]) -> Path:
    """The directory ``<name>-<key>`` in the cache, filled by ``fill`` once (in a scratch directory renamed
    into place, so a half-filled one is never seen); older ones pruned."""
    target = CACHE / f"{name}-{key}"
    with _locked(name):
        if not target.exists():
            partial = Path(tempfile.mkdtemp(dir=CACHE))
            fill(partial)
            partial.rename(target)
            prune(f"{name}-*", keep=target)
    return target


def _copy_tree(name: str, sources: dict[str, Path]) -> Path:
    """Copies ``sources`` (destination relative path -> source path) into a directory named by their hash."""

    def fill(partial: Path) -> None:
        for rel, src in sources.items():
            dest = partial / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, ignore=_IGNORED)
            else:
                shutil.copy2(src, dest)

    return _staged(name, tree_hash(*sources.values()), fill)


def _write_tree(name: str, files: dict[str, str]) -> Path:
    """A directory of small text files (relative path -> text), named by their hash."""

    def fill(partial: Path) -> None:
        for rel, text in files.items():
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            (partial / rel).write_text(text)

    return _staged(name, hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16], fill)


def shared_layer() -> Path:
    """A directory ``python/shared``: the domain library, on every function's import path via a layer."""
    return _copy_tree("shared", {"python/shared": ROOT / "shared"})


def functions_code(http_package: str) -> Path:
    """``functions/`` without the HTTP API package (Chalice packages that one itself)."""
    pkg = ROOT / "functions"
    sources = {f"functions/{p.name}": p for p in sorted(pkg.iterdir()) if p.name not in (http_package, "__pycache__")}
    return _copy_tree("functions", sources)


@contextlib.contextmanager
def chalice_project(app_module: str, config: dict) -> Iterator[Path]:
    """A temporary Chalice project wrapping ``app_module`` (e.g. ``functions.api.app``).

    ``app.py`` re-exports the real app; ``vendor/`` carries its package so the deployment zip holds
    ``functions/<api>/``; requirements stay empty because the layers carry them. The working directory
    changes for the duration because Chalice's construct writes ``chalice.out/`` into it.
    """
    package = app_module.rsplit(".", 1)[0]  # functions.api
    CACHE.mkdir(parents=True, exist_ok=True)
    project = Path(tempfile.mkdtemp(prefix="chalice-", dir=CACHE))
    try:
        vendor = project / "vendor"
        top = package.split(".")[0]
        (vendor / top).mkdir(parents=True)
        shutil.copy2(ROOT / top / "__init__.py", vendor / top / "__init__.py")
        shutil.copytree(ROOT / package.replace(".", "/"), vendor / package.replace(".", "/"), ignore=_IGNORED)
        (project / "app.py").write_text(f"from {app_module} import app  # noqa: F401\n")
        (project / "requirements.txt").write_text("")
        (project / ".chalice").mkdir()
        (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
        previous = os.getcwd()
        # Chalice asks boto3 for a region to name API Gateway's service principal, which is the same in
        # every region; the stack itself stays region-agnostic.
        had_region = "AWS_DEFAULT_REGION" in os.environ
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
        os.chdir(project)
        try:
            yield project
        finally:
            os.chdir(previous)
            if not had_region:
                os.environ.pop("AWS_DEFAULT_REGION", None)
    finally:
        shutil.rmtree(project, ignore_errors=True)
