"""The public surface: exports, the exception tree, CLI help."""

from __future__ import annotations

import inspect
import re

import pytest
from typer.testing import CliRunner

import callqa
import callqa.errors as errors
from callqa.cli import app


def test_all_names_exist_and_nothing_public_is_missing():
    for name in callqa.__all__:
        assert hasattr(callqa, name), name
    exported = {n for n in vars(callqa) if not n.startswith("_") and not inspect.ismodule(getattr(callqa, n))}
    assert exported <= set(callqa.__all__), exported - set(callqa.__all__)


def test_exception_tree_docstring_names_every_error():
    classes = {n for n, c in vars(errors).items() if inspect.isclass(c) and issubclass(c, errors.CallQAError)}
    drawn = set(re.findall(r"([A-Z][A-Za-z]+Error)\b", errors.__doc__))
    assert classes == drawn
    # and the drawing matches the real hierarchy: each name is indented under its parent
    lines = [line for line in errors.__doc__.splitlines() if re.search(r"[A-Z][A-Za-z]+Error", line)]
    depth = {}
    for line in lines:
        name = re.search(r"([A-Z][A-Za-z]+Error)", line).group(1)
        depth[name] = line.index(name)
    for name in classes - {"CallQAError"}:
        parent = getattr(errors, name).__mro__[1].__name__
        assert depth[name] > depth[parent], (name, parent)


def _commands(group, prefix=()):
    import typer.main

    click_group = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


COMMANDS = sorted(_commands(app))


def test_core_commands_exist():
    assert {("run",), ("show",), ("sql",)} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output, f"callqa {' '.join(command)} --help has no example"
