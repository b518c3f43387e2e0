"""The command line's help reads cleanly and documents every option, for every subcommand.

The parser is walked, so subcommands added later are checked without editing this file.
"""

import argparse
import ast
import re
from pathlib import Path

import pytest

from skmicro.cli import build_parser, main

MARKUP = re.compile(r"`|:(class|func|meth|mod|attr|data|obj|ref|doc):")


def _walk(parser, path=("skmicro",)):
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))


PARSERS = dict(_walk(build_parser()))


def test_the_walk_finds_the_known_subcommands():
    assert {"skmicro demo", "skmicro reproduce", "skmicro synthesize"} <= set(PARSERS)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_option_has_plain_help(name):
    parser = PARSERS[name]
    assert parser.description and parser.description.strip(), f"{name}: no description"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help and choice.help.strip(), f"{name} {choice.dest}: no help"
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{name} {label}: no help text"
    text = parser.format_help()
    assert not MARKUP.search(text), f"{name} --help shows reST markup: {MARKUP.search(text)[0]!r}"
    assert "%(default)" not in text and "None" not in text, f"{name}: raw default in help"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_help_exits_cleanly(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(name.split()[1:] + ["--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: " + name)


def test_cli_module_holds_no_computation():
    # The CLI is a parser over public functions: it imports no numerical or image library.
    tree = ast.parse(Path(__file__).resolve().parents[1].joinpath("skmicro", "cli.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported <= {"__future__", "argparse", "sys"}, imported


def test_synthesize_checks_the_output_folder_before_the_work(tmp_path, monkeypatch):
    import numpy as np

    import skmicro.synthesis
    from skmicro.io import save_micrograph

    save_micrograph(tmp_path / "in.png", np.zeros((8, 8), np.uint8))

    def never(*args, **kwargs):
        raise AssertionError("synthesized before checking where the result goes")

    monkeypatch.setattr(skmicro.synthesis, "synthesize_texture", never)
    with pytest.raises(ValueError, match="folder .*nowhere.* does not exist"):
        main(["--traceback", "synthesize", str(tmp_path / "in.png"), "--out",
              str(tmp_path / "nowhere" / "x.png")])


def _documented_commands():
    """Every skmicro command line in README.md and docs/*.md code blocks, as argument lists."""
    import shlex

    root = Path(__file__).resolve().parents[1]
    found = []
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        blocks = re.findall(r"^```[^\n]*\n(.*?)^```", page.read_text(), re.S | re.M)
        for block in blocks:
            for line in block.replace("\\\n", " ").splitlines():
                if re.search(r"\s\[-", line):
                    continue  # a usage synopsis ("[--size N]"), not a command
                if re.match(r"skmicro [\w-]+: ", line):
                    continue  # a message the command printed ("skmicro map: notice: ...")
                for part in re.split(r"&&|;|\|", line):
                    if not re.search(r"(^|[\s/])skmicro\s", part):
                        continue
                    words = shlex.split(part, comments=True)
                    if words[:1] == ["$"]:
                        words = words[1:]
                    if words and words[0].rsplit("/", 1)[-1] == "skmicro" and len(words) > 1:
                        found.append((page.name, words[1:]))
    return found


DOCUMENTED = _documented_commands()


def test_the_docs_show_commands():
    pages = {page for page, _ in DOCUMENTED}
    assert "README.md" in pages and len(DOCUMENTED) >= 3


@pytest.mark.parametrize("page, argv", DOCUMENTED, ids=[" ".join(a[:2]) for _, a in DOCUMENTED])
def test_documented_commands_parse(page, argv):
    # A renamed or removed option fails here, not in a reader's shell.
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"{page}: 'skmicro {' '.join(argv)}' does not parse (exit {exc.code})")
    assert callable(args.func)


@pytest.mark.parametrize("name", sorted(n for n, p in PARSERS.items()
                                        if "--verbose" in p._option_string_actions))
def test_every_verbose_command_has_quiet(name):
    parser = PARSERS[name]
    actions = parser._option_string_actions
    assert {"-q", "--quiet"} <= set(actions)
    argv = ["lubbers2017"] if name == "skmicro reproduce" else \
        ["x" for a in parser._actions if a.required and not a.option_strings]
    argv += [arg for a in parser._actions if a.required and a.option_strings
             for arg in (a.option_strings[0], "x")]
    assert parser.parse_args(argv + ["-q"]).verbose == 0
    assert parser.parse_args(argv + ["--verbose", "2"]).verbose == 2
    assert parser.parse_args(argv).verbose == actions["--verbose"].default


def _png(path):
    from PIL import Image
    import numpy as np

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)


@pytest.mark.parametrize("argv, message", [
    (["features", "{tmp}/in.png", "--out", "{tmp}/no/f.csv"],
     "cannot write --out {tmp}/no/f.csv: the folder '{tmp}/no' does not exist."),
    (["features", "{tmp}/in.png", "--out", "{tmp}/f.txt"],
     "cannot write --out {tmp}/f.txt: unknown table type '.txt'. The file name must end in "),
    (["map", "{tmp}/in.png", "--out", "{tmp}/no/map.html"],
     "cannot write --out {tmp}/no/map.html: the folder '{tmp}/no' does not exist."),
    (["synthesize", "{tmp}/in.png", "--out", "{tmp}/no/o.png"],
     "cannot write --out {tmp}/no/o.png: the folder '{tmp}/no' does not exist."),
    (["features", "{tmp}/in.png", "--out", "{tmp}/f.csv", "--device", "gpu", "-q"],
     "--device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device. Got 'gpu' instead."),
])
def test_errors_name_the_options_not_the_python_names(tmp_path, capsys, argv, message):
    _png(tmp_path / "in.png")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skmicro {argv[0]}: error: {message.format(tmp=tmp_path)}"), err
    assert not re.search(r"\w+_\w+\(|describe_folder|map_collection|synthesize_file|"
                         r"The 'out' parameter|out=", err), err
