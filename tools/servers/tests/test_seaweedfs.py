"""The kit's object store really is an S3 endpoint with credentials, and keeps its data across a restart."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from servers.seaweedfs import REGION, seaweed_s3

pytestmark = pytest.mark.slow


def test_objects_survive_a_restart_and_wrong_keys_are_refused(tmp_path: Path) -> None:
    with seaweed_s3(tmp_path / "store", buckets=("team-data",)) as store:
        store.client().put_object(Bucket="team-data", Key="a/b.txt", Body=b"hello")
        store.stop()
        assert store.process is None
        store.start()
        assert store.keys("team-data") == ["a/b.txt"]
        assert store.client().get_object(Bucket="team-data", Key="a/b.txt")["Body"].read() == b"hello"
        intruder = boto3.client(
            "s3", endpoint_url=store.endpoint_url, aws_access_key_id="team-access-key",
            aws_secret_access_key="wrong", region_name=REGION,
        )  # fmt: skip
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            intruder.list_objects_v2(Bucket="team-data")
    assert store.process is None
