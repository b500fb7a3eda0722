"""The code the stack uploads: layers, the plain functions' asset and the Chalice package hold what
the handlers import, and nothing of the repository's tooling (checked on the synthesised dev stack).

The tests' synthesis does not build the dependencies layer (``infra.cdk.app.build(..., templates_only=True)``):
its recipe stands in. Its packages are installed as the layer installs them, without the bytecode (~7 s of
CPU where the build with bytecode and zip took ~22 s), by the background preparation beside the synthesis
(``tests/infra/conftest.py``: it no longer ends the session on one worker); the build itself (bytecode, zip,
cache) runs here on one small pin."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.cdk import bundle
from tests.infra import cfn
from tests.infra.conftest import layer_packages, output_dir

pytestmark = pytest.mark.cdk
PLAIN = cfn.PLAIN


def _asset(synth_dir: Path, key: str) -> Path:
    digest = key.split(".")[0]
    base = synth_dir / "assembly"
    return base / f"asset.{digest}.zip" if (base / f"asset.{digest}.zip").exists() else base / f"asset.{digest}"


def _names(path: Path) -> set[str]:
    if path.is_dir():
        return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def assets(synth_dir, raw_templates) -> dict[str, Path]:
    t = raw_templates["dev"]
    layers = {
        k: _asset(synth_dir, v["Properties"]["Content"]["S3Key"])
        for k, v in cfn.of_type(t, "AWS::Lambda::LayerVersion").items()
    }
    (deps,) = [p for k, p in layers.items() if "Dependencies" in k]
    (shared,) = [p for k, p in layers.items() if "Shared" in k]
    codes = {
        _asset(synth_dir, v["Properties"]["Code"]["S3Key"]) for v in cfn.of_type(t, "AWS::Lambda::Function").values()
    }
    (functions,) = codes  # one asset for every plain function
    chalice = _asset(synth_dir, cfn.props(t, "APIHandler")["CodeUri"]["Key"])
    return {"deps": deps, "shared": shared, "functions": functions, "chalice": chalice}


@pytest.fixture(scope="module")
def dependencies() -> Path:
    """The dependencies layer's directory (``python/<packages>``), installed by its recipe (in the background
    with the synthesis, ``tests/infra/conftest.py``; here if that has not done it)."""
    return layer_packages(output_dir())


def test_dependencies_layer_has_linux_wheels_and_no_chalice(dependencies):
    names = _names(dependencies)
    assert any(n.startswith("python/pydantic_core/") and n.endswith("x86_64-linux-gnu.so") for n in names)
    for package in ("pynamodb", "aws_lambda_powertools", "stripe", "boto3", "tzdata"):
        assert f"python/{package}/__init__.py" in names, package
    assert not [n for n in names if n.startswith(("python/chalice/", "python/shared/"))]


def test_dependencies_layer_of_the_templates_is_its_recipe(raw_templates, assets):
    """Staged in the tests' synthesis: its pins, under the hash of the recipe (a new recipe, a new asset)."""
    layers = cfn.of_type(raw_templates["dev"], "AWS::Lambda::LayerVersion")
    (layer,) = [v for k, v in layers.items() if "Dependencies" in k]
    recipe = hashlib.sha256(bundle.dependencies_key().encode()).hexdigest()
    assert layer["Properties"]["Content"]["S3Key"] == f"{recipe}.zip"
    assert (assets["deps"] / "requirements.txt").read_text().split() == bundle.requirements()


def test_dependencies_layer_build_compiles_zips_and_is_kept(tmp_path, monkeypatch):
    """The build ``make synth`` runs (``bundle.dependencies_layer``), on one small pin: installed for
    Lambda's platform with bytecode, zipped under ``python/``, built once per recipe."""
    monkeypatch.setattr(bundle, "CACHE", tmp_path)
    monkeypatch.setattr(bundle, "requirements", lambda: ["six==1.17.0"])
    layer = bundle.dependencies_layer()
    assert layer.name == f"deps-{bundle.dependencies_key()}.zip"
    names = _names(layer)
    tag = sys.implementation.cache_tag
    assert {"python/six.py", f"python/__pycache__/six.{tag}.pyc"} <= names
    assert all(n.startswith("python/") for n in names)
    built = layer.stat().st_mtime_ns
    assert bundle.dependencies_layer() == layer and layer.stat().st_mtime_ns == built


def test_shared_layer_is_the_domain_library(assets):
    names = _names(assets["shared"])
    assert "python/shared/resources.py" in names
    assert not [n for n in names if "__pycache__" in n or not n.startswith("python/shared/")]


def test_plain_functions_asset_has_every_handler_but_not_the_api(assets):
    names = _names(assets["functions"])
    assert "functions/__init__.py" in names
    for fn in PLAIN:
        assert fn.handler.rsplit(".", 1)[0].replace(".", "/") + ".py" in names
    assert not [n for n in names if n.startswith(("functions/api/", "shared/"))]


def test_chalice_package_wraps_the_api(assets):
    names = _names(assets["chalice"])
    assert {"app.py", "chalice/app.py", "functions/__init__.py", "functions/api/app.py"} <= names
    assert not [n for n in names if n.startswith("shared/")]


@pytest.mark.skipif(
    (platform.system(), platform.machine(), sys.version_info[:2]) != ("Linux", "x86_64", (3, 11)),
    reason="the layer holds Linux x86_64 CPython 3.11 wheels",
)
def test_every_handler_imports_from_the_packaged_artifacts_alone(assets, dependencies, tmp_path):
    """Python without site-packages, on the packaged paths only: a dependency missing from the layer
    or a module missing from an asset fails here instead of in Lambda."""
    with zipfile.ZipFile(assets["chalice"]) as archive:
        archive.extractall(tmp_path / "api")
    modules = [fn.handler.rsplit(".", 1)[0] for fn in PLAIN]
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"sys.path.insert(0, {str(tmp_path / 'api')!r})\n"
        "import app\n"
        "assert app.app.app_name\n"
    )
    paths = [str(assets["functions"]), str(assets["shared"] / "python"), str(dependencies / "python")]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(paths),
        "AWS_DEFAULT_REGION": "cn-north-1",
        "TONGTING_STAGE": "dev",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
