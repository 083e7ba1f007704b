from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.github.workflow_commands import annotation


def test_every_line_of_the_message_survives() -> None:
    line = annotation("error", "Deploy gate", "`f1` 0.96 → 0.80 (100% sure)\r\nsecond line\n")
    assert line == "::error title=Deploy gate::`f1` 0.96 → 0.80 (100%25 sure)%0D%0Asecond line"
    assert "\n" not in line


def test_title_properties_are_escaped() -> None:
    assert annotation("warning", "a: b, c", "m") == "::warning title=a%3A b%2C c::m"


def test_unknown_level_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="'fatal' is not one of error, warning, notice"):
        annotation("fatal", "t", "m")


def test_cli_reads_the_message_from_a_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    message = tmp_path / "message.txt"
    message.write_text("first\nsecond\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["annotate", "error", "--title", "Regression gate", "--file", str(message)])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == "::error title=Regression gate::first%0Asecond\n"
