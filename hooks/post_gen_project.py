"""Prune unselected parts, write the answers file, git init; the logic lives in hook_utils/post_gen.py."""

import json
import sys

sys.path.insert(0, {{ template_root | tojson }})  # set by hook_utils/template_root.py
from hook_utils.post_gen import main

sys.exit(main(json.loads({{ cookiecutter | jsonify | tojson }})))
