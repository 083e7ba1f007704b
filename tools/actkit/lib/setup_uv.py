"""act-kit stand-in for astral-sh/setup-uv v10.0.1 (`main` and `post`, run by stand_ins/setup-uv/setup_uv.js).

What the real action does at that commit (src/setup-uv.ts, src/utils/inputs.ts, src/cache/restore-cache.ts,
src/save-cache.ts), offline:
- the version: `version`, else `uv==X` read from `version-file` (requirements*.txt or pyproject.toml); only an
  exact version is possible offline (the real one resolves ranges and `latest` from a manifest on the network);
- uv in the runner's tool cache (RUNNER_TOOL_CACHE/uv/<version>/x86_64): reused when there, else the host's uv
  when it is that version (beside ACT_KIT_HOST_PYTHON or on PATH), else `pip install uv==<version>` (PyPI);
  its folder goes on PATH (GITHUB_PATH); outputs uv-version, uv-path, uvx-path, python-version;
- the cache (enable-cache `auto` is on: the kit stands for a GitHub-hosted runner, except for tag pushes,
  pull_request_target, workflow_run and release, as there): UV_CACHE_DIR = cache-local-path, else an existing
  UV_CACHE_DIR, else RUNNER_TEMP/setup-uv-cache; the key
  `setup-uv-2-<arch>-<platform>-<os>-<python>[-pruned]-<hash of cache-dependency-glob>[-suffix]`, restored on an
  exact match only (no restore keys) from the kit's cache store (ACT_KIT_CACHE_DIR, beside actions/cache's
  entries); the post step (success only) saves unless the key was hit, fails when the folder is missing
  (unless ignore-nothing-to-cache), prunes with `uv cache prune --ci` first when prune-cache is true.
Every restore and save is recorded in $ACT_KIT_OUT/setup-uv.json.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from pathlib import Path

from kitstate import append_record, set_output

CACHE_VERSION = "2"
ARCH = "x86_64"
PLATFORM = "unknown-linux-gnu"
EXACT_VERSION = re.compile(r"^\d+(\.\d+)*$")
UV_REQUIREMENT = re.compile(r"^uv([=<>~!]+\S*)")
UNSUPPORTED = {"checksum": "", "cache-python": "false", "tool-dir": "", "tool-bin-dir": "", "manifest-file": ""}
NO_CACHE_EVENTS = {"pull_request_target", "workflow_run", "release"}


class SetupUvError(Exception):
    """A setup-uv failure: printed as one ::error line."""


def get_input(name: str) -> str:
    return os.environ.get(f"INPUT_{name.replace(' ', '_').upper()}", "").strip()


def working_directory() -> Path:
    return Path(get_input("working-directory") or os.environ.get("GITHUB_WORKSPACE") or os.getcwd())


def resolve(base: Path, value: str) -> Path:
    return base / os.path.expanduser(value)


def append_file(variable: str, line: str) -> None:
    with open(os.environ[variable], "a") as handle:
        handle.write(line + "\n")


def export(name: str, value: str) -> None:
    append_file("GITHUB_ENV", f"{name}={value}")
    os.environ[name] = value


def save_state(name: str, value: str) -> None:
    append_file("GITHUB_STATE", f"{name}={value}")


def version_from_file(path: Path) -> str | None:
    if not path.exists():
        print(f"Could not find file: {path}")
        return None
    if path.name.endswith(".txt"):
        dependencies = path.read_text().splitlines()
    elif path.name == "pyproject.toml":
        project = tomllib.loads(path.read_text()).get("project", {})
        optional = [d for group in project.get("optional-dependencies", {}).values() for d in group]
        dependencies = project.get("dependencies", []) + optional
    else:
        raise SetupUvError(f"version-file {path.name}: the stand-in reads requirements*.txt and pyproject.toml only")
    for dependency in dependencies:
        match = UV_REQUIREMENT.match(dependency.split(";", 1)[0].strip())
        if match:
            return match[1].strip()
    return None


def requested_version() -> str:
    specifier = get_input("version")
    if not specifier and get_input("version-file"):
        specifier = version_from_file(resolve(working_directory(), get_input("version-file"))) or ""
    version = specifier.removeprefix("==").removeprefix("v")
    if not EXACT_VERSION.match(version):
        raise SetupUvError(
            f"uv version {specifier or 'latest'!r}: the act-kit stand-in is offline and installs an exact version "
            "only (version: 0.13.9, or uv==0.13.9 in the version-file)"
        )
    return version


def uv_version(binary: str) -> str | None:
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.split()[1] if result.returncode == 0 and result.stdout.startswith("uv ") else None


def host_uv(version: str) -> Path | None:
    host_bin = Path(os.environ.get("ACT_KIT_HOST_PYTHON") or sys.executable).parent
    for candidate in (host_bin / "uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file() and uv_version(str(candidate)) == version:
            return Path(candidate)
    return None


def install_uv(version: str) -> Path:
    """The uv folder in the tool cache, filled from the host or from PyPI the first time."""
    tool_dir = Path(os.environ.get("RUNNER_TOOL_CACHE") or tempfile.gettempdir()) / "uv" / version / ARCH
    if (tool_dir / "uv").is_file():
        print(f"Found uv in tool-cache for {version}")
        return tool_dir
    tool_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=tool_dir.parent))
    found = host_uv(version)
    if found:
        print(f"act-kit setup-uv: uv {version} from the host ({found})")
        for name in ("uv", "uvx"):
            if (found.parent / name).is_file():
                shutil.copy2(found.parent / name, staging / name)
    else:
        print(f"act-kit setup-uv: pip installing uv=={version} (PyPI)")
        target = staging / "wheel"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), f"uv=={version}"],
            check=True,
        )
        for name in ("uv", "uvx"):
            shutil.move(target / "bin" / name, staging / name)
        shutil.rmtree(target)
    staging.rename(tool_dir)
    return tool_dir


def cache_enabled() -> bool:
    value = get_input("enable-cache") or "auto"
    if value != "auto":
        return value == "true"
    event = os.environ.get("GITHUB_EVENT_NAME", "")
    tag_push = event == "push" and os.environ.get("GITHUB_REF", "").startswith("refs/tags/")
    return not tag_push and event not in NO_CACHE_EVENTS


def cache_local_path() -> Path | None:
    if get_input("cache-local-path"):
        return resolve(working_directory(), get_input("cache-local-path"))
    if os.environ.get("UV_CACHE_DIR"):
        return Path(os.environ["UV_CACHE_DIR"])
    if cache_enabled():
        return Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "setup-uv-cache"
    return None


def hash_files(patterns: list[str], base: Path) -> str:
    """@actions/glob hashFiles: sha256 over the sha256 of each matched file, in path order ('' when none)."""
    included = [p for p in patterns if p and not p.startswith("!")]
    excluded = [str(resolve(base, p[1:])) for p in patterns if p.startswith("!")]
    files = sorted(
        {
            path
            for pattern in included
            for path in glob.glob(str(resolve(base, pattern)), recursive=True)
            if Path(path).is_file() and not any(fnmatch.fnmatch(path, e) for e in excluded)
        }
    )
    if not files:
        return ""
    combined = hashlib.sha256()
    for path in files:
        combined.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return combined.hexdigest()


def os_name_version() -> str:
    fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return f"{fields.get('ID', 'linux').strip(chr(34))}-{fields.get('VERSION_ID', '').strip(chr(34))}"


def cache_key(python_version: str) -> str:
    patterns = [line.strip() for line in get_input("cache-dependency-glob").splitlines() if line.strip()]
    digest = hash_files(patterns, working_directory()) if patterns else ""
    if patterns and not digest:
        print(f"::warning::No file matched to [{','.join(patterns)}]. The cache will never get invalidated.")
    suffix = f"-{urllib.parse.quote(get_input('cache-suffix'))}" if get_input("cache-suffix") else ""
    pruned = "-pruned" if get_input("prune-cache") == "true" else ""
    dependency = f"-{digest}" if digest else "-no-dependency-glob"
    version = urllib.parse.quote(python_version)
    return f"setup-uv-{CACHE_VERSION}-{ARCH}-{PLATFORM}-{os_name_version()}-{version}{pruned}{dependency}{suffix}"


def store_entry(key: str, cache_path: Path) -> Path:
    """The entry's folder in the kit's cache store; like actions/cache, entries match only for the same path
    (RUNNER_TEMP stands for the job's temp folder, which act makes per job and GitHub keeps the same)."""
    runner_temp = os.environ.get("RUNNER_TEMP")
    shown = str(cache_path).replace(runner_temp, "$RUNNER_TEMP", 1) if runner_temp else str(cache_path)
    version = hashlib.sha256(f"setup-uv|{shown}".encode()).hexdigest()[:16]
    root = Path(os.environ.get("ACT_KIT_CACHE_DIR") or Path(tempfile.gettempdir()) / "act-kit-cache")
    return root / version / urllib.parse.quote(key, safe="")


def detected_python(uv: Path) -> str:
    if get_input("python-version"):
        return get_input("python-version")
    found = subprocess.run(
        [str(uv), "python", "find", "--directory", str(working_directory())], capture_output=True, text=True
    )
    if found.returncode != 0:
        return "unknown"
    return subprocess.run([found.stdout.strip(), "--version"], capture_output=True, text=True).stdout.split()[1]


def restore(key: str, cache_path: Path) -> None:
    set_output("cache-key", key)
    save_state("SETUP_UV_CACHE_KEY", key)
    save_state("SETUP_UV_CACHE_PATH", str(cache_path))
    if get_input("restore-cache") == "false":
        print("restore-cache is false. Skipping restore cache step.")
        set_output("cache-hit", "false")
        return
    print(f"Trying to restore cache from GitHub Actions cache with key: {key}")
    entry = store_entry(key, cache_path)
    hit = (entry / "meta.json").exists()
    append_record("setup-uv", {"op": "restore", "key": key, "hit": hit})
    if not hit:
        print(f"No GitHub Actions cache found for key: {key}")
        set_output("cache-hit", "false")
        return
    started = time.monotonic()
    shutil.copytree(entry / "files", cache_path, symlinks=True, dirs_exist_ok=True)
    save_state("SETUP_UV_CACHE_MATCHED", key)
    set_output("cache-hit", "true")
    print(f"cache restored from GitHub Actions cache with key: {key} ({time.monotonic() - started:.1f} s)")


def main() -> None:
    for name, default in UNSUPPORTED.items():
        if get_input(name) not in ("", default):
            raise SetupUvError(f"input {name}: not supported by the act-kit stand-in (offline, no managed Python)")
    if get_input("resolution-strategy") not in ("", "highest"):
        raise SetupUvError("input resolution-strategy: the stand-in installs exact versions only")
    if not any(working_directory().iterdir()) and get_input("ignore-empty-workdir") != "true":
        print("::warning::Empty workdir detected. This may cause unexpected behavior.")
    version = requested_version()
    tool_dir = install_uv(version)
    append_file("GITHUB_PATH", str(Path.home() / ".local" / "bin"))
    append_file("GITHUB_PATH", str(tool_dir))
    set_output("uv-path", str(tool_dir / "uv"))
    set_output("uvx-path", str(tool_dir / "uvx"))
    python_dir = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(Path(os.environ["RUNNER_TEMP"]) / "uv-python-dir")
    export("UV_PYTHON_INSTALL_DIR", python_dir)
    append_file("GITHUB_PATH", python_dir)
    if get_input("python-version"):
        export("UV_PYTHON", get_input("python-version"))
    if get_input("activate-environment") == "true":
        activate(tool_dir / "uv")
    cache_path = cache_local_path()
    if cache_path is not None:
        export("UV_CACHE_DIR", str(cache_path))
    set_output("uv-version", version)
    save_state("SETUP_UV_RAN", "true")
    print(f"Successfully installed uv version {version}")
    python_version = detected_python(tool_dir / "uv")
    set_output("python-version", python_version)
    set_output("python-cache-hit", "false")
    save_state("SETUP_UV_CACHE_ENABLED", str(cache_enabled()).lower())
    if cache_enabled() and cache_path is not None:
        restore(cache_key(python_version), cache_path)


def activate(uv: Path) -> None:
    venv = resolve(working_directory(), get_input("venv-path") or ".venv")
    command = [str(uv), "venv", str(venv), "--directory", str(working_directory()), "--clear"]
    if get_input("no-project") == "true":
        command.append("--no-project")
    subprocess.run(command, check=True)
    append_file("GITHUB_PATH", str(venv.resolve() / "bin"))
    export("VIRTUAL_ENV", str(venv))
    set_output("venv", str(venv))


def post() -> None:
    if os.environ.get("STATE_SETUP_UV_CACHE_ENABLED") != "true":
        return
    if get_input("save-cache") == "false":
        print("save-cache is false. Skipping save cache step.")
        return
    key = os.environ.get("STATE_SETUP_UV_CACHE_KEY", "")
    if not key:
        print("::warning::Error retrieving cache key from state.")
        return
    if os.environ.get("STATE_SETUP_UV_CACHE_MATCHED") == key:
        print(f"Cache hit occurred on key {key}, not saving cache.")
        return
    cache_path = Path(os.environ["STATE_SETUP_UV_CACHE_PATH"])
    if get_input("prune-cache") == "true":
        print("Pruning cache...")
        prune = [shutil.which("uv") or "uv", "cache", "prune", "--ci", "--force"]
        subprocess.run(prune, check=True, env={**os.environ, "UV_CACHE_DIR": str(cache_path)})
    if not cache_path.exists():
        if get_input("ignore-nothing-to-cache") == "true":
            print("No cacheable uv cache paths were found. Ignoring because ignore-nothing-to-cache is enabled.")
            return
        raise SetupUvError(
            f"Cache path {cache_path} does not exist on disk. This likely indicates that there are no dependencies "
            "to cache. Consider disabling the cache input if it is not needed."
        )
    entry = store_entry(key, cache_path)
    if (entry / "meta.json").exists():
        print(f"Cache {key} already exists, not saving.")
        return
    staging = entry.with_name(f"{entry.name}.tmp-{os.getpid()}")
    shutil.copytree(cache_path, staging / "files", symlinks=True)
    (staging / "meta.json").write_text(json.dumps({"key": key, "path": str(cache_path), "created": time.time()}))
    try:
        staging.rename(entry)
    except OSError:
        if not (entry / "meta.json").exists():
            raise
        # Another job saved the key while this one copied: GitHub's cache service refuses the reservation and
        # the real action warns (actions/cache's saveCache), the job still succeeds.
        shutil.rmtree(staging, ignore_errors=True)
        append_record("setup-uv", {"op": "save-refused", "key": key})
        reason = "another job may be creating this cache"
        print(f"::warning::Failed to save: Unable to reserve cache with key {key}, {reason}.")
        return
    append_record("setup-uv", {"op": "save", "key": key})
    print(f"uv cache saved with key: {key}")


if __name__ == "__main__":
    try:
        post() if sys.argv[1:] == ["post"] else main()
    except SetupUvError as error:
        print(f"::error::{error}")
        sys.exit(1)
