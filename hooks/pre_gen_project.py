"""Validate the answers before anything is written; the logic lives in hook_utils/answers.py."""

import json
import sys

sys.path.insert(0, {{ template_root | tojson }})  # set by hook_utils/template_root.py
from hook_utils.answers import main

sys.exit(main(json.loads({{ cookiecutter | jsonify | tojson }})))
