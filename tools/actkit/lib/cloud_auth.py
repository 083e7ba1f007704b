"""Stand-ins for the cloud sign-in actions: aws-actions/configure-aws-credentials v6.2.3,
google-github-actions/auth v3.0.0 and azure/login v3.0.1 (read at their pinned commits).

`python3 "$ACT_KIT_HOME/lib/cloud_auth.py" <name>` from a composite action.yml with KIT_INPUTS=${{ toJSON(inputs) }}.
A job has a GitHub OIDC token only when its workflow grants it `id-token: write` and the run is not a fork's or
Dependabot's (`ACT_KIT_ID_TOKEN_JOBS`, set by run_workflow); without one each fails with the real action's message.
With one, a role / provider / client is mapped to a local test identity: ACT_KIT_AWS_ROLES (JSON: role ARN ->
{"access_key_id", "secret_access_key"[, "session_token"]}) gives the keys configure-aws-credentials exports.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

from kitstate import append_record, inputs, set_output

Inputs = dict[str, Any]
AWS_ROLES_ENV = "ACT_KIT_AWS_ROLES"
AWS_MODELLED = {"aws-region", "role-to-assume", "aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
GCP_MODELLED = {"workload_identity_provider", "service_account", "credentials_json", "project_id"}
AZURE_MODELLED = {"client-id", "tenant-id", "subscription-id", "creds", "allow-no-subscriptions", "auth-type"}
# google-github-actions/auth src/main.ts
GCP_OIDC_WARNING = (
    "GitHub Actions did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN or $ACTIONS_ID_TOKEN_REQUEST_URL into this job. "
    "This most likely means the GitHub Actions workflow permissions are incorrect, or this job is being run from a "
    "fork. For more information, please see https://docs.github.com/en/actions/security-guides/"
    "automatic-token-authentication#permissions-for-the-github_token"
)


class ActionFailed(Exception):
    """The action's core.setFailed(message)."""


def id_token_available() -> bool:
    jobs = [j for j in os.environ.get("ACT_KIT_ID_TOKEN_JOBS", "").split(",") if j]
    return os.environ.get("GITHUB_JOB", "") in jobs


def export(name: str, value: str, *, secret: bool = False) -> None:
    if secret and value:
        print(f"::add-mask::{value}")
    with open(os.environ["GITHUB_ENV"], "a") as env_file:
        env_file.write(f"{name}={value}\n")


def given(args: Inputs) -> dict[str, str]:
    return {key: str(value) for key, value in args.items() if str(value or "").strip()}


def refuse_unmodelled(args: Inputs, modelled: set[str], action: str) -> None:
    extra = sorted(set(given(args)) - modelled)
    if extra:
        raise ActionFailed(f"act-kit {action} stand-in: inputs not modelled: {', '.join(extra)}")


def configure_aws_credentials(args: Inputs) -> dict[str, Any]:
    refuse_unmodelled(args, AWS_MODELLED, "configure-aws-credentials")
    values = given(args)
    region = values.get("aws-region", "")
    if not region:
        raise ActionFailed("Input required and not supplied: aws-region")
    if not re.fullmatch(r"[a-z0-9-]+", region):
        raise ActionFailed(f"Region is not valid: {region}")
    role, key_id = values.get("role-to-assume", ""), values.get("aws-access-key-id", "")
    export("AWS_DEFAULT_REGION", region)
    export("AWS_REGION", region)
    if role and not key_id and not id_token_available():
        print(
            "It looks like you might be trying to authenticate with OIDC. Did you mean to set the `id-token` "
            "permission? If you are not trying to authenticate with OIDC and the action is working successfully, "
            "you can ignore this message."
        )
        raise ActionFailed(
            "Credentials could not be loaded, please check your action inputs: "
            "Could not load credentials from any providers"
        )
    if key_id and not values.get("aws-secret-access-key"):
        raise ActionFailed("'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided")
    if role:
        identity = json.loads(os.environ.get(AWS_ROLES_ENV) or "{}").get(role)
        if identity is None:
            how = "user credentials" if key_id else "OIDC"
            raise ActionFailed(
                f"Could not assume role with {how}: Not authorized to perform sts:AssumeRoleWithWebIdentity"
                if not key_id
                else f"Could not assume role with {how}: User is not authorized to perform: sts:AssumeRole on {role}"
            )
        keys = (identity["access_key_id"], identity["secret_access_key"], identity.get("session_token", ""))
        print(f"Authenticated as assumedRoleId {role.rsplit('/', 1)[-1]}:GitHubActions")
    else:
        keys = (key_id, values.get("aws-secret-access-key", ""), values.get("aws-session-token", ""))
        print("Proceeding with IAM user credentials")
    export("AWS_ACCESS_KEY_ID", keys[0], secret=True)
    export("AWS_SECRET_ACCESS_KEY", keys[1], secret=True)
    if keys[2] or os.environ.get("AWS_SESSION_TOKEN"):
        export("AWS_SESSION_TOKEN", keys[2], secret=True)
    account = role.split(":")[4] if role.count(":") >= 5 else ""
    if account:
        set_output("aws-account-id", account)
    return {"region": region, "role": role, "oidc": bool(role and not key_id), "static_keys": bool(key_id)}


def google_auth(args: Inputs) -> dict[str, Any]:
    refuse_unmodelled(args, GCP_MODELLED, "google-github-actions/auth")
    values = given(args)
    provider, key = values.get("workload_identity_provider", ""), values.get("credentials_json", "")
    if bool(provider) == bool(key):
        raise ActionFailed(
            'The GitHub Action workflow must specify exactly one of "workload_identity_provider" or '
            '"credentials_json"! If you are specifying input values via GitHub secrets, ensure the secret is being '
            "injected into the environment. By default, secrets are not passed to workflows triggered from forks, "
            "including Dependabot."
        )
    if provider and not id_token_available():
        raise ActionFailed(GCP_OIDC_WARNING)
    service_account = values.get("service_account", "")
    if provider:
        config: dict[str, Any] = {
            "type": "external_account",
            "audience": f"//iam.googleapis.com/{provider}",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {"url": "https://act-kit.invalid/id-token", "format": {"type": "json"}},
        }
        if service_account:
            config["service_account_impersonation_url"] = (
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
                f"{service_account}:generateAccessToken"
            )
    else:
        config = json.loads(key)
        service_account = config.get("client_email", "")
    workspace = Path(os.environ["GITHUB_WORKSPACE"])
    path = workspace / f"gha-creds-{secrets.token_hex(8)}.json"
    path.write_text(json.dumps(config))
    print(f'Created credentials file at "{path}"')
    set_output("credentials_file_path", str(path))
    for name in ("CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_GHA_CREDS_PATH"):
        export(name, str(path))
    project = values.get("project_id") or config.get("project_id") or service_account.partition("@")[2].split(".")[0]
    if project:
        set_output("project_id", project)
        for name in (
            "CLOUDSDK_CORE_PROJECT",
            "CLOUDSDK_PROJECT",
            "GCLOUD_PROJECT",
            "GCP_PROJECT",
            "GOOGLE_CLOUD_PROJECT",
        ):
            export(name, project)
    return {"oidc": bool(provider), "service_account": service_account, "file": path.name, "project": project}


def azure_login(args: Inputs) -> dict[str, Any]:
    refuse_unmodelled(args, AZURE_MODELLED, "azure/login")
    values = given(args)
    creds = json.loads(values["creds"]) if values.get("creds") else {}
    client, tenant = values.get("client-id") or creds.get("clientId"), values.get("tenant-id") or creds.get("tenantId")
    if not client or not tenant:
        raise ActionFailed(
            "Using auth-type: SERVICE_PRINCIPAL. Not all values are present. Ensure 'client-id' and 'tenant-id' "
            "are supplied."
        )
    subscription = values.get("subscription-id") or creds.get("subscriptionId")
    if not subscription and values.get("allow-no-subscriptions", "false").lower() != "true":
        raise ActionFailed("Ensure 'subscription-id' is supplied or 'allow-no-subscriptions' is 'true'.")
    oidc = not creds.get("clientSecret")
    if oidc and not id_token_available():
        print(
            "::error::Failed to fetch federated token from GitHub. Please make sure to give write permissions to "
            "id-token in the workflow."
        )
        raise ActionFailed("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable")
    print(f"Azure CLI login succeeds by using {'OIDC' if oidc else 'service principal with secret'}.")
    # The real action runs `az login` + `az account set` and exports nothing: later steps find the CLI's login.
    return {"client_id": client, "tenant_id": tenant, "subscription_id": subscription, "oidc": oidc}


HANDLERS = {
    "configure-aws-credentials": configure_aws_credentials,
    "google-auth": google_auth,
    "azure-login": azure_login,
}


def main(name: str) -> int:
    try:
        record = HANDLERS[name](inputs())
    except ActionFailed as failure:
        print(f"::error::{failure}")
        append_record(name, {"failed": str(failure), "job": os.environ.get("GITHUB_JOB", "")})
        return 1
    append_record(name, {**record, "job": os.environ.get("GITHUB_JOB", "")})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
