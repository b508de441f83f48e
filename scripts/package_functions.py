#!/usr/bin/env python3
"""Build the source bundle of the Google Cloud functions or the AWS Lambda functions, byte-for-byte reproducibly.

The bundle is one zip that every gcp function deploys (they share ``functions/gcp/main.py`` and
differ only by entry point)::

    main.py            functions/gcp/main.py (and any other file of functions/gcp/)
    dynastore/...      the library (shared/dynastore), without caches
    requirements.txt   every distribution the base dependencies plus the requested extras need
                       (default ``[gcp,tasks]``: the Google clients and functions-framework, and
                       rasterio/pyarrow for the built-in tasks run_task executes), pinned to the
                       versions installed in this environment (``name==version``)

``--cloud aws`` builds ``dynastore-aws.zip`` the same way from ``functions/aws/`` (``handlers.py`` at
the root, the four Lambda handlers are ``handlers.api`` ...), pinned for the ``[aws]`` extra by default.
Lambda installs no requirements, so ``--with-dependencies`` also builds ``dynastore-aws-deps.zip``:
a Lambda layer (``python/...``) of those pins as Linux x86_64 wheels (``pip install --platform``;
needs the package index), which Terraform publishes as a layer version under its own hash.

Same input, same bytes: entries are sorted, every timestamp is 1980-01-01, permissions are fixed,
the compression level is fixed and nothing about the build machine (time, user, paths) goes in.
Terraform uploads the zip under its SHA-256 (``filesha256``), so a code change redeploys and
nothing else does.

    .venv/bin/python scripts/package_functions.py             # -> dist/functions/dynastore-gcp.zip
    .venv/bin/python scripts/package_functions.py --out /tmp/b --json
    .venv/bin/python scripts/package_functions.py --cloud aws --with-dependencies  # -> dynastore-aws{,-deps}.zip
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BUNDLE_NAME = "dynastore-gcp.zip"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
PROJECT_DIST = "dynastore-assets"
DEFAULT_EXTRAS = ("gcp", "tasks")


@dataclass(frozen=True)
class Cloud:
    """What one cloud's bundle holds: its functions folder, the entry module, the zip name, the extras."""

    folder: str
    entry: str
    bundle_name: str
    default_extras: tuple[str, ...]


CLOUDS = {
    "gcp": Cloud("functions/gcp", "main.py", BUNDLE_NAME, DEFAULT_EXTRAS),
    # Lambda's 250 MB unzipped limit: the raster/parquet tasks (rasterio, pyarrow) are opt-in (--extras aws,tasks).
    "aws": Cloud("functions/aws", "handlers.py", "dynastore-aws.zip", ("aws",)),
}
AWS_LAYER_NAME = "dynastore-aws-deps.zip"


class PackagingError(RuntimeError):
    """The bundle cannot be built as asked (missing source, unpinnable requirement)."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    size: int
    entries: list[str]
    requirements: list[str]

    def summary(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "entries": len(self.entries),
            "requirements": len(self.requirements),
        }


# ------------------------------------------------------------------------------------ requirements


def target_environment(python_version: str) -> dict[str, str]:
    """Marker environment of the Cloud Functions runtime (Linux x86_64, CPython)."""
    major_minor = ".".join(python_version.split(".")[:2])
    full = python_version if python_version.count(".") >= 2 else f"{major_minor}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": major_minor,
        "sys_platform": "linux",
    }


def _applies(marker: Marker | None, environment: dict[str, str], extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**environment, "extra": extra}) for extra in (*extras, ""))


def project_requirements(pyproject: Path, extras: Iterable[str]) -> list[Requirement]:
    """The base dependencies plus those of the named extras, as declared in pyproject.toml."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    declared = list(project.get("dependencies", []))
    for extra in extras:
        if extra not in optional:
            raise PackagingError(f"pyproject.toml has no extra [{extra}] (it has {', '.join(sorted(optional))})")
        declared.extend(optional[extra])
    return [Requirement(text) for text in declared]


def pin_requirements(
    roots: Iterable[Requirement], environment: dict[str, str], *, pyproject: Path = ROOT / "pyproject.toml"
) -> dict[str, str]:
    """Every distribution the roots need on the target, pinned to the installed version.

    Walks the dependency metadata of the installed distributions (this environment must have been
    installed with the same extras). Returns ``{canonical name: version}``.
    """
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    stack: list[tuple[Requirement, frozenset[str]]] = [(req, frozenset()) for req in roots]
    while stack:
        requirement, parent_extras = stack.pop()
        if not _applies(requirement.marker, environment, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        if name == PROJECT_DIST:
            # The project itself ships as the vendored `dynastore/` package; follow its extras only.
            for extra in requirement.extras:
                stack.extend((req, frozenset()) for req in project_requirements(pyproject, [extra]))
            continue
        extras = frozenset(requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise PackagingError(
                f"{requirement} is needed on the target but not installed here; install the project with the same "
                "extras (e.g. `.venv/bin/pip install -e '.[dev]'`) so every requirement can be pinned"
            ) from exc
        version = dist.version
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            raise PackagingError(f"installed {name} {version} does not satisfy {requirement}")
        pins[name] = version
        for text in dist.requires or []:
            stack.append((Requirement(text), extras))
    return pins


def requirements_txt(pins: dict[str, str], extras: Iterable[str], python_version: str) -> str:
    header = (
        "# Generated by scripts/package_functions.py: do not edit.\n"
        f"# dynastore-assets base dependencies + extras [{','.join(extras)}],"
        f" pinned for Python {python_version} (linux).\n"
    )
    return header + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


# ------------------------------------------------------------------------------------ files


def _source_files(base: Path, arcbase: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if path.is_dir() or any(part in SKIPPED_DIRS for part in relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        yield (f"{arcbase}/{relative.as_posix()}" if arcbase else relative.as_posix()), path


def bundle_entries(root: Path, requirements: str, cloud: Cloud = CLOUDS["gcp"]) -> dict[str, bytes]:
    """Archive name -> bytes for everything the bundle holds."""
    functions_dir = root / cloud.folder
    library_dir = root / "shared" / "dynastore"
    if not (functions_dir / cloud.entry).is_file():
        raise PackagingError(f"{functions_dir / cloud.entry} is missing: nothing to deploy")
    if not (library_dir / "__init__.py").is_file():
        raise PackagingError(f"{library_dir} is not the dynastore package")
    entries: dict[str, bytes] = {}
    for name, path in _source_files(functions_dir, ""):
        if name == "requirements.txt":
            continue  # the bundle's requirements are always the generated, pinned ones
        entries[name] = path.read_bytes()
    for name, path in _source_files(library_dir, "dynastore"):
        entries[name] = path.read_bytes()
    entries["requirements.txt"] = requirements.encode("utf-8")
    return entries


def write_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, entries[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".zip.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build(
    out_dir: Path,
    *,
    root: Path = ROOT,
    extras: Iterable[str] | None = None,
    python_version: str = "3.12",
    cloud: str = "gcp",
) -> Bundle:
    if cloud not in CLOUDS:
        raise PackagingError(f"unknown cloud {cloud!r}: use {' or '.join(CLOUDS)}")
    spec = CLOUDS[cloud]
    extras = list(spec.default_extras if extras is None else extras)
    pyproject = root / "pyproject.toml"
    roots = project_requirements(pyproject, extras)
    pins = pin_requirements(roots, target_environment(python_version), pyproject=pyproject)
    requirements = requirements_txt(pins, extras, python_version)
    entries = bundle_entries(root, requirements, spec)
    data = write_zip(entries)
    path = out_dir / spec.bundle_name
    _write(path, data)
    return Bundle(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        entries=sorted(entries),
        requirements=[line for line in requirements.splitlines() if line and not line.startswith("#")],
    )


def lambda_layer_command(requirements: Path, target: Path, python_version: str) -> list[str]:
    """pip installing the pinned requirements as Lambda (Amazon Linux, x86_64) wheels into ``target``."""
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", python_version, "--target", str(target), "--requirement", str(requirements),
    ]  # fmt: skip


def build_lambda_layer(bundle: Bundle, out_dir: Path, python_version: str = "3.12") -> Bundle:
    """The dependencies layer of an aws bundle (``python/<packages>``), zipped reproducibly."""
    with tempfile.TemporaryDirectory(prefix="dynastore-layer-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(bundle.requirements) + "\n", encoding="utf-8")
        target = Path(tmp) / "python"
        proc = subprocess.run(lambda_layer_command(requirements, target, python_version), check=False,
                              capture_output=True, text=True)  # fmt: skip
        if proc.returncode != 0:
            raise PackagingError(f"pip could not fetch the Lambda wheels:\n{proc.stderr[-3000:]}")
        entries = {name: path.read_bytes() for name, path in _source_files(target, "python")}
        shutil.rmtree(target, ignore_errors=True)
    data = write_zip(entries)
    path = out_dir / AWS_LAYER_NAME
    _write(path, data)
    return Bundle(path, hashlib.sha256(data).hexdigest(), len(data), sorted(entries), bundle.requirements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "functions", help="output folder")
    parser.add_argument("--cloud", choices=sorted(CLOUDS), default="gcp", help="which functions to bundle")
    parser.add_argument(
        "--extras",
        default=None,
        help="comma-separated extras to pin (default: gcp,tasks for gcp, aws for aws; "
        "`gcp` alone skips the raster/parquet tasks)",
    )
    parser.add_argument(
        "--with-dependencies", action="store_true", help="aws: also build the dependencies layer (needs the index)"
    )
    parser.add_argument("--python-version", default="3.12", help="Python of the runtime (python312 -> 3.12)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    args = parser.parse_args(argv)
    try:
        extras = None if args.extras is None else [e for e in args.extras.split(",") if e]
        bundle = build(args.out, extras=extras, python_version=args.python_version, cloud=args.cloud)
        bundles = [bundle]
        if args.with_dependencies:
            if args.cloud != "aws":
                raise PackagingError("--with-dependencies is for --cloud aws (Cloud Functions install requirements)")
            bundles.append(build_lambda_layer(bundle, args.out, args.python_version))
    except PackagingError as exc:
        print(f"package_functions: {exc}", file=sys.stderr)
        return 1
    if args.json:
        summaries = [item.summary() for item in bundles]
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
    else:
        for item in bundles:
            print(
                f"{item.path}  sha256={item.sha256}  {item.size} bytes, {len(item.entries)} files, "
                f"{len(item.requirements)} pinned requirements"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
