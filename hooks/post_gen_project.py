"""Prune unselected parts, write the answers file, git init; the logic lives in hook_utils/post_gen.py."""

import json
import sys

sys.path.insert(0, {{ cookiecutter._repo_dir | tojson }})
from hook_utils.post_gen import main

sys.exit(main(json.loads({{ cookiecutter | jsonify | tojson }})))
