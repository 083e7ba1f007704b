"""The DVC remote check: each way a remote can fail gives one line naming the remote and the fix.

The filesystem is a stand-in raising what s3fs/gcsfs/adlfs raise; the template's slow tests run the same
check against a real S3-compatible store (wrong credentials, unknown bucket, store stopped during a push).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.remote import Remote, check, open_remote


@dataclass
class FakeFs:
    """ls(path) raises the error given for that path, else lists nothing."""

    errors: dict[str, BaseException] = field(default_factory=dict)

    def ls(self, path: str) -> list[str]:
        if path in self.errors:
            raise self.errors[path]
        return []


def s3_remote(errors: dict[str, BaseException] | None = None) -> Remote:
    return Remote(name="storage", url="s3://team-data/store", fs=FakeFs(errors or {}), path="team-data/store")


def test_a_remote_that_lists_passes() -> None:
    check(s3_remote())


def test_wrong_credentials_name_the_remote_and_the_variables() -> None:
    remote = s3_remote({"team-data/store": PermissionError("SignatureDoesNotMatch")})
    with pytest.raises(UserError) as raised:
        check(remote)
    message = str(raised.value)
    assert message.startswith("DVC remote 'storage' (s3://team-data/store) refused the credentials")
    assert "AWS_SECRET_ACCESS_KEY" in message and "dvc remote modify --local storage" in message
    assert "\n" not in message


def test_an_unknown_bucket_names_the_bucket_and_the_fix() -> None:
    missing = FileNotFoundError("The specified bucket does not exist")
    remote = s3_remote({"team-data/store": missing, "team-data": missing})
    expected = r"bucket 'team-data' does not exist: create it .* `dvc remote modify storage url"
    with pytest.raises(UserError, match=expected):
        check(remote)


@pytest.mark.parametrize(
    "bucket_error", [None, PermissionError("AccessDenied")], ids=["bucket-listable", "prefix-only-policy"]
)
def test_an_empty_prefix_in_an_existing_bucket_passes(bucket_error: BaseException | None) -> None:
    errors: dict[str, BaseException] = {"team-data/store": FileNotFoundError("team-data/store")}
    if bucket_error is not None:
        errors["team-data"] = bucket_error  # a least-privilege policy lists the prefix only
    check(s3_remote(errors))


def test_an_endpoint_that_does_not_answer_points_at_aws_endpoint_url() -> None:
    remote = s3_remote(
        {"team-data/store": ConnectionError('Could not connect to "http://127.0.0.1:9"\nmore')}
    )
    expected = r"does not answer \(Could not connect to .*\): check AWS_ENDPOINT_URL"
    with pytest.raises(UserError, match=expected):
        check(remote)


def dvc_project(folder: Path, remote_url: str) -> Path:
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "--no-scm", "--quiet"], cwd=folder, check=True)
    subprocess.run([*dvc, "remote", "add", "--default", "storage", remote_url], cwd=folder, check=True)
    return folder


def test_a_local_remote_whose_folder_is_missing_says_mkdir(tmp_path: Path) -> None:
    project = dvc_project(tmp_path, str(tmp_path / "missing-storage"))
    remote = open_remote(root=project)
    assert (remote.name, remote.scheme) == ("storage", "local")
    with pytest.raises(UserError, match=r"the folder does not exist: mkdir -p .*missing-storage"):
        check(remote)
    (tmp_path / "missing-storage").mkdir()
    check(open_remote(root=project))


def test_an_unknown_remote_name_lists_the_configured_ones(tmp_path: Path) -> None:
    project = dvc_project(tmp_path, str(tmp_path / "storage"))
    with pytest.raises(UserError, match=r"DVC remote 'backup' is not configured \(configured: storage\)"):
        open_remote("backup", root=project)
