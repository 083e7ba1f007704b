"""actkit: run a generated project's GitHub Actions workflows offline (act, host mode) and its image (podman)."""
