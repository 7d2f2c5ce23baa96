"""Is the lock file behind pyproject.toml?  Run after installing from it.

    python requirements/check.py [EXTRA ...]

Checks that every requirement of pyproject.toml (the dependencies and the named
extras) is installed in this interpreter's environment, in a version its range
admits.  The Makefile installs from requirements/*.txt, not from pyproject.toml:
a requirement added to pyproject.toml without `make lock` would otherwise go
missing silently.  Exits 1, naming what is missing, and says to run `make lock`.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    own = canonicalize_name(project["name"])
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        sys.exit(f"pyproject.toml has no extra {', '.join(unknown)}")
    lines = list(project.get("dependencies", []))
    for extra in extras:
        lines += optional[extra]
    return [req for req in map(Requirement, lines) if canonicalize_name(req.name) != own]


def main(extras: list[str]) -> int:
    problems = []
    for req in requirements(extras):
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            problems.append(f"{req} is not installed")
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            problems.append(f"{req} is required but {req.name} {installed} is installed")
    if problems:
        print("The lock file does not satisfy pyproject.toml:", *problems, sep="\n  ", file=sys.stderr)
        print("Run `make lock` and commit requirements/*.txt.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
