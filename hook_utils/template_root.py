"""Jinja extension (listed in cookiecutter.json `_extensions`) that tells the hooks where the template is.

The hooks run as scripts in the new project's folder and import `hook_utils` from the template, so they need its
absolute path. cookiecutter's `_repo_dir` is not it: it is relative when the template was given as a relative path
(`cookiecutter .`), and cruft does not set it at all. Both tools import local extensions from the template folder
they render (cookiecutter puts it on sys.path, cruft its clone), so this module's own location is the template's,
however the template was invoked.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]


class TemplateRootExtension(Extension):
    """Adds the global `template_root`: the absolute path of the template folder, as a string."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = str(TEMPLATE_ROOT)
