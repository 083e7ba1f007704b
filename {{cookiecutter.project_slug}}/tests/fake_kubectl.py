"""A stand-in for kubectl in the rollout tests (run as a script; state in the JSON file $FAKE_KUBECTL_STATE).

It answers the commands `cli rollout` uses as kubectl does, per the scenario: healthy | apply-fails |
rollout-fails (the applied revision never becomes ready) | smoke-fails (/predict answers 500).
`kustomize DIR` renders a Deployment `demo` and a Service `demo` in namespace demo-<overlay folder>, with the
image of the temporary kustomization's `images:` entry. Every call is appended to the state's `calls`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import yaml

STATE = Path(os.environ["FAKE_KUBECTL_STATE"])
BASE_IMAGE = "ghcr.io/acme/demo"


def rendered(folder: Path) -> str:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    (overlay,) = kustomization["resources"]
    if not (folder / overlay / "kustomization.yaml").is_file():
        sys.exit(f"Error: accumulating resources: '{folder / overlay}' must resolve to a file")
    image = BASE_IMAGE
    for entry in kustomization.get("images", []):
        if entry["name"] == BASE_IMAGE:
            image = f"{BASE_IMAGE}@{entry['digest']}"
    namespace = f"demo-{(folder / overlay).resolve().name}"
    container = {"name": "model", "image": image, "ports": [{"name": "http", "containerPort": 8000}]}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "demo", "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "demo", "namespace": namespace},
        "spec": {"ports": [{"name": "http", "port": 8000, "targetPort": "http"}]},
    }
    return yaml.safe_dump_all([service, deployment])


def serve(state: dict[str, Any]) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer(200, {"status": "ready"})

        def do_POST(self) -> None:
            rows = json.loads(self.rfile.read(int(self.headers["content-length"])))["rows"]
            if state["scenario"] == "smoke-fails":
                self.answer(500, {"detail": "Internal Server Error"})
            else:
                self.answer(200, {"predictions": [0] * len(rows), "model_version": state["model_version"]})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"Forwarding from 127.0.0.1:{server.server_address[1]} -> 8000", flush=True)
    server.serve_forever()


def main(args: list[str]) -> None:
    state = json.loads(STATE.read_text())
    state["calls"].append(args)
    STATE.write_text(json.dumps(state))
    name = "deployment.apps/demo"
    match args:
        case ["kustomize", folder]:
            print(rendered(Path(folder)))
        case ["get", "deployment/demo", *_]:
            if state["revision"] is not None:
                annotations = {"deployment.kubernetes.io/revision": str(state["revision"])}
                print(json.dumps({"metadata": {"name": "demo", "annotations": annotations}}))
        case ["apply", "-f", "-"]:
            if state["scenario"] == "apply-fails":
                sys.exit('Error from server (Forbidden): deployments.apps "demo" is forbidden')
            state["applied"] = list(yaml.safe_load_all(sys.stdin))
            state["revision"] = (state["revision"] or 0) + 1
            state["bad_revision"] = state["revision"] if state["scenario"] == "rollout-fails" else None
            print(f"service/demo unchanged\n{name} configured")
        case ["rollout", "status", "deployment/demo", *_]:
            if state["revision"] == state.get("bad_revision"):
                sys.exit('error: deployment "demo" exceeded its progress deadline')
            print('deployment "demo" successfully rolled out')
        case ["rollout", "undo", "deployment/demo", *_]:
            state["revision"] += 1
            print(f"{name} rolled back")
        case ["port-forward", "service/demo", ":http", *_]:
            serve(state)
        case _:
            sys.exit(f"fake kubectl: unexpected command {args}")
    STATE.write_text(json.dumps(state))


if __name__ == "__main__":
    main(sys.argv[1:])
