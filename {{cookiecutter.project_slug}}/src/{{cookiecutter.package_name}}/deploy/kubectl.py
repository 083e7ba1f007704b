"""kubectl as a subprocess: one call per step, its output kept for the error message, and a port-forward."""

from __future__ import annotations

import re
import selectors
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

# kubectl port-forward prints this line once it listens (k8s.io/client-go/tools/portforward).
FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(?P<port>\d+) -> \d+")


class KubectlError(RuntimeError):
    """A kubectl call that failed: the command line and what kubectl said."""

    def __init__(self, command: Sequence[str], returncode: int | None, output: str) -> None:
        self.command = " ".join(command)
        self.output = output.strip() or "(no output)"
        exit_text = "did not answer in time" if returncode is None else f"exited {returncode}"
        super().__init__(f"`{self.command}` {exit_text}: {self.output}")


@dataclass(frozen=True)
class Kubectl:
    """The kubectl binary (found on PATH by default); the cluster is the one KUBECONFIG names."""

    binary: str = "kubectl"

    def run(self, *args: str, stdin: str | None = None, timeout: float | None = None) -> str:
        """stdout of `kubectl args...`; a non-zero exit raises KubectlError with stderr (or stdout)."""
        command = [self.binary, *args]
        try:
            done = subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
            )
        except FileNotFoundError as error:
            raise KubectlError(command, 127, f"{self.binary} not found: install kubectl") from error
        except subprocess.TimeoutExpired as error:
            raise KubectlError(command, None, str(error.stderr or "")) from error
        if done.returncode != 0:
            raise KubectlError(command, done.returncode, done.stderr or done.stdout)
        return done.stdout

    @contextmanager
    def port_forward(
        self, resource: str, port: str, namespace: str | None, timeout: float = 30
    ) -> Iterator[str]:
        """`kubectl port-forward resource :port` on 127.0.0.1: yields the local base URL, stops it on exit."""
        command = [self.binary, "port-forward", resource, f":{port}", "--address", "127.0.0.1"]
        command += namespace_args(namespace)
        with tempfile.TemporaryFile("w+") as errors:
            try:
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
            except FileNotFoundError as error:
                raise KubectlError(command, 127, f"{self.binary} not found: install kubectl") from error
            try:
                local_port = _forwarded_port(process, timeout)
                if local_port is None:
                    errors.seek(0)
                    raise KubectlError(command, process.poll(), errors.read())
                yield f"http://127.0.0.1:{local_port}"
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout:
                    process.stdout.close()


def namespace_args(namespace: str | None) -> list[str]:
    return ["--namespace", namespace] if namespace else []


def _forwarded_port(process: subprocess.Popen[str], timeout: float) -> str | None:
    """The local port from port-forward's first lines, or None when it ends or stays silent."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(left):
                return None
            line = process.stdout.readline()
            if not line:
                return None
            match = FORWARDING.search(line)
            if match:
                return match["port"]
    return None
