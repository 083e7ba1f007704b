"""Where the prediction log lives: any fsspec URL (s3://, gs://, az://, memory://) or a local path.

The one place the service's log writer and the monitor's reader open a location, so both reach the same store
with the same settings (credentials and endpoints come from each cloud's standard environment variables, which
the fsspec plugins read: AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*).
"""

from __future__ import annotations

from typing import Any


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) of a URL or a local path.

    Raises ValueError naming the URL when its protocol's package is not installed.
    """
    import fsspec  # noqa: PLC0415  (optional: the serve and train extras bring it)

    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as error:
        raise ValueError(f"{url}: {error}") from None
