"""The product's Lambda code: one asset, bundled without Docker.

``stacks/amilifecycle/runtime/`` (the ``orchestrator`` package) is copied
into the asset together with the pinned third-party libraries of
``runtime/requirements.txt``, installed by pip as manylinux wheels for the
Lambda runtime's Python. Installed libraries are cached per requirements
hash under ``.cache/lambda-deps/`` so that a synth after the first one
costs a copy, not a download; the asset hash depends only on the source
and the requirements file, so it is reproducible.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from stacks.settings import PROJECT_ROOT

RUNTIME_DIR = PROJECT_ROOT / "stacks" / "amilifecycle" / "runtime"
REQUIREMENTS = RUNTIME_DIR / "requirements.txt"
CACHE_DIR = PROJECT_ROOT / ".cache" / "lambda-deps"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_PYTHON_VERSION = "3.12"
EXCLUDE = ["**/__pycache__", "**/*.pyc"]


class BundlingError(RuntimeError):
    pass


def _requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]


def installed_dependencies() -> Path:
    """The folder holding the runtime's third-party libraries, installing
    them into the cache on first use."""
    target = CACHE_DIR / _requirements_hash()
    if (target / ".complete").exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--target", str(staging), "--requirement", str(REQUIREMENTS),
        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION, "--only-binary=:all:",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundlingError(f"installing {REQUIREMENTS.name} for the Lambda asset failed: {result.stderr.strip()}")
    for cache in staging.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    (staging / ".complete").write_text(_requirements_hash())
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@jsii.implements(cdk.ILocalBundling)
class _LocalBundling:
    """Copies the source and the cached libraries into the asset folder."""

    def try_bundle(self, output_dir: str, *, image, **_kwargs) -> bool:  # noqa: ARG002 (jsii signature)
        output = Path(output_dir)
        shutil.copytree(installed_dependencies(), output, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".complete", "__pycache__"))
        shutil.copytree(RUNTIME_DIR, output, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt"))
        return True


def runtime_code() -> lambda_.Code:
    """The Lambda code of every product function (one asset, many handlers)."""
    return lambda_.Code.from_asset(
        str(RUNTIME_DIR),
        exclude=EXCLUDE,
        # Hash the inputs, not the bundled output: stable across machines.
        asset_hash_type=cdk.AssetHashType.SOURCE,
        bundling=cdk.BundlingOptions(
            image=LAMBDA_RUNTIME.bundling_image,
            local=_LocalBundling(),
            command=["false"],  # never used: local bundling always succeeds or raises
        ),
    )
