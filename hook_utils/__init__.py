"""Logic of the template's cookiecutter hooks, kept importable so that it can be unit-tested.

Only the standard library may be imported here: hooks run where just cookiecutter is installed.
"""
