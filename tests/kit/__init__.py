"""Test kit: act (GitHub Actions offline) and podman helpers for the template tests."""
