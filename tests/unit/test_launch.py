"""The entry point finds `serve` the way the full parser does, before loading anything."""

from __future__ import annotations

import argparse

import pytest

from reviewbot import cli
from reviewbot.launch import VALUE_OPTIONS, command_index


def test_the_value_taking_top_level_options_are_the_parsers() -> None:
    parser = cli._parser()
    taking = {
        option
        for action in parser._actions
        if action.nargs != 0 and action.option_strings and not isinstance(action, argparse._SubParsersAction)
        for option in action.option_strings
    }
    assert taking == VALUE_OPTIONS


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["serve", "--port", "1"], "serve"),
        (["--data-dir", "d", "--allow-per-process-limits", "serve"], "serve"),
        (["--setup-allow", "10.0.0.0/8", "serve"], "serve"),
        (["--data-dir", "serve", "review"], "review"),  # a data dir called "serve"
        (["review", "--head", "serve"], "review"),  # a branch called "serve"
        (["--data-dir"], None),
    ],
)
def test_the_subcommand_is_found_where_argparse_finds_it(argv: list[str], command: str | None) -> None:
    index = command_index(argv)
    assert (argv[index] if index is not None else None) == command
