"""Logic of the template's cookiecutter hooks, kept importable so that it can be unit-tested.

Only what plain `pip install cookiecutter` brings may be imported here (the standard library; jinja2 in the
extension): hooks run where just cookiecutter is installed.
"""
