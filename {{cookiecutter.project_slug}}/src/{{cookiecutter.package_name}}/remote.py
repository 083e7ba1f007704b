"""The DVC remote: check that it answers, then push or pull, with one line naming the remote and the fix.

`remote check` opens the remote with the filesystem DVC itself uses (dvc-s3 -> s3fs, dvc-gs -> gcsfs,
dvc-azure -> adlfs) and lists its bucket, so wrong credentials, an unknown bucket or an endpoint that does not
answer end in one line instead of DVC's "unexpected error". `remote push` and `remote pull` run that check,
then `dvc push|pull --run-cache`. When a transfer fails (the store went away half-way), DVC would retry every
remaining file in turn for many minutes: it is stopped at the first failed file, its log is kept in .dvc/tmp,
and one line says what happened. A push never changes the local cache, so a retry sends what is missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dvc.repo import Repo

from .errors import UserError

# What to set when the remote refuses the credentials, per remote type ({name}: the remote's name).
CREDENTIAL_FIXES = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE; AWS_ENDPOINT_URL for an "
    "S3-compatible store), or `dvc remote modify --local {name} access_key_id|secret_access_key ...`",
    "gs": "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS, or "
    "`dvc remote modify --local {name} credentialpath <key.json>`",
    "azure": "run `az login` or set AZURE_STORAGE_CONNECTION_STRING, or "
    "`dvc remote modify --local {name} connection_string ...`",
}
GUIDE = "docs/dvc-remote.md"
# botocore's default (5 attempts, backoff up to 20 s) spent many minutes, silently, on a store gone half-way
# through a push before DVC logged any file as failed; a blip still gets retries. A set AWS_MAX_ATTEMPTS wins.
FEWER_ATTEMPTS = "3"
LOG_DIR = Path(".dvc/tmp")


@dataclass(frozen=True)
class Remote:
    """A configured DVC remote: its name, URL, and DVC's filesystem for it (fs, path inside fs)."""

    name: str
    url: str
    fs: Any  # dvc_objects FileSystem wrapping the fsspec one; its class depends on the plugin
    path: str

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else "local"

    @property
    def label(self) -> str:
        return f"DVC remote '{self.name}' ({self.url})"

    @property
    def bucket(self) -> str:
        """The bucket (container) for object stores; the remote's folder for a local one."""
        return self.path if self.scheme == "local" else self.path.split("/", 1)[0]


def open_remote(name: str | None = None, root: Path = Path()) -> Remote:
    """The remote `name` (default: core.remote) of the DVC project at root, as DVC would open it."""
    with Repo(str(root)) as repo:
        chosen = name or repo.config["core"].get("remote")
        if not chosen:
            raise UserError(f"no DVC remote is configured: `dvc remote add -d storage <url>` (see {GUIDE})")
        if chosen not in repo.config["remote"]:
            known = ", ".join(repo.config["remote"]) or "none"
            raise UserError(f"DVC remote '{chosen}' is not configured (configured: {known})")
        remote = repo.cloud.get_remote(chosen)
        return Remote(name=chosen, url=repo.config["remote"][chosen]["url"], fs=remote.fs, path=remote.path)


def check(remote: Remote) -> None:
    """List the remote's folder: a UserError names the remote and the fix when that fails.

    Only the remote's own prefix is listed: a least-privilege policy (docs/dvc-remote.md) allows no more.
    """
    try:
        remote.fs.ls(remote.path)
    except PermissionError as error:
        fix = CREDENTIAL_FIXES.get(remote.scheme, "check the folder's permissions").format(name=remote.name)
        raise UserError(f"{remote.label} refused the credentials ({first_line(error)}): {fix}") from error
    except FileNotFoundError as error:
        if remote.scheme == "local":
            raise UserError(f"{remote.label}: the folder does not exist: mkdir -p {remote.path}") from error
        if bucket_is_missing(remote):
            raise UserError(
                f"{remote.label}: bucket '{remote.bucket}' does not exist: create it ({GUIDE}) or point the "
                f"remote at yours with `dvc remote modify {remote.name} url {remote.scheme}://<bucket>/<path>`"
            ) from error
    except Exception as error:  # each plugin raises its own connection errors: all mean "does not answer"
        reason = first_line(error)
        raise UserError(f"{remote.label} does not answer ({reason}): {endpoint_fix(remote)}") from error


def bucket_is_missing(remote: Remote) -> bool:
    """An empty prefix (nothing pushed yet) is fine; a missing bucket is not."""
    try:
        remote.fs.ls(remote.bucket)
    except FileNotFoundError:
        return True
    except PermissionError:  # the policy allows the remote's prefix only: the bucket is there
        return False
    return False


def endpoint_fix(remote: Remote) -> str:
    if remote.scheme == "s3":
        return "check AWS_ENDPOINT_URL (S3-compatible stores) and the network, then run it again"
    return "check the network and the remote's URL, then run it again"


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def transfer(remote: Remote, action: str, options: Sequence[str]) -> None:
    """`dvc <action> --run-cache` to/from remote, stopped at the first file that fails to move."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"remote-{action}.log"
    command = [sys.executable, "-m", "dvc", action, "--run-cache", "--remote", remote.name, *options]
    env = {**os.environ}
    env.setdefault("AWS_MAX_ATTEMPTS", FEWER_ATTEMPTS)
    first_error = ""
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) as dvc,
    ):
        assert dvc.stderr is not None  # stderr=PIPE above
        for line in dvc.stderr:
            log.write(line)
            if line.startswith("ERROR:"):
                first_error = line.removeprefix("ERROR:").strip()
                dvc.terminate()  # the other files would fail the same way, each after its own retries
                break
            sys.stderr.write(line)
        log.write(dvc.stderr.read())
    if dvc.returncode != 0:
        kept = "the local cache is unchanged" if action == "push" else "the workspace keeps what it had"
        reason = first_error or f"dvc {action} exited {dvc.returncode}"
        raise UserError(
            f"dvc {action} with {remote.label} failed: {reason}; {kept}: run it again once the remote "
            f"answers (DVC's log: {log_path})"
        )


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="remote", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "push", "pull"))
    parser.add_argument("--remote", help="the DVC remote's name (default: core.remote of .dvc/config)")
    args, dvc_options = parser.parse_known_args(argv)
    remote = open_remote(args.remote)
    check(remote)
    if args.action != "check":
        transfer(remote, args.action, dvc_options)
    return 0
