"""The ``bc-tui`` command: the terminal app by default, plus headless subcommands.

Heavy modules (textual, starlette, uvicorn, httpx) are imported inside the handlers, so that
``bc-tui --help`` and ``bc-tui --version`` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from bc_tui import __version__

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports when the reader stopped early

DESCRIPTION = """\
Couple and synchronize Microsoft Dynamics 365 Business Central customers and contacts with
Dataverse (Dynamics 365 Sales) accounts and contacts, from the terminal.

With no connection configured, bc-tui works on its embedded sandbox: demo data served by
emulators of both services on this machine, so you can try everything safely.

Run 'bc-tui' with no command to open the terminal app (press ? inside it for every key), or
use a command below to do the same work headless.
"""

EPILOG = """\
examples:
  bc-tui sandbox serve --port 8123     run the emulated services and print their URLs
  bc-tui sandbox edit --side bc -n 5   change five BC customers, as a colleague would
  bc-tui sandbox reset                 restore the demo data

Run 'bc-tui COMMAND --help' for the options of one command.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one plain sentence and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"bc-tui: {message}. Run '{self.prog} --help' for usage.\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line parser (subcommands register themselves)."""
    parser = _Parser(
        prog="bc-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bc-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from bc_tui.sandbox import commands as sandbox_commands

    sandbox_commands.register(commands)
    from bc_tui.commands import register_all

    register_all(commands)
    return parser


def _no_command(parser: argparse.ArgumentParser) -> int:
    """Plain ``bc-tui``: open the terminal app (on the configured profile, or the sandbox)."""
    from bc_tui.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as error:
        sys.stderr.write(f"bc-tui: {error}\n")
        return EXIT_USAGE
    # Textual is imported here only, so that `bc-tui --help` and the subcommands stay fast.
    from bc_tui.tui.app import BcTuiApp
    from bc_tui.tui.backend import Backend

    backend = Backend.from_settings(settings)
    BcTuiApp(backend=backend, keymap=settings.keys, close_backend=True).run()
    return EXIT_OK


def _undecodable(arguments: Sequence[str]) -> str | None:
    """The sentence for the first argument that is not valid UTF-8, or None when all are.

    Python hands over the bytes of an argument it cannot decode as lone surrogates
    (U+DC80-U+DCFF); such text can go neither into a request nor to the terminal.
    """
    from bc_tui.domain.text import shorten

    for argument in arguments:
        undecoded = [ord(char) - 0xDC00 for char in argument if "\udc80" <= char <= "\udcff"]
        if undecoded:
            shown = shorten("".join("\ufffd" if "\udc80" <= char <= "\udcff" else char for char in argument))
            return (
                f"The argument '{shown}' is not valid UTF-8 text (byte 0x{undecoded[0]:02X}); type it again "
                "in UTF-8 (check the terminal's or the script's encoding)."
            )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bc-tui`` console script; returns the process exit code."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if (refusal := _undecodable(arguments)) is not None:
        sys.stderr.write(f"bc-tui: {refusal}\n")
        return EXIT_USAGE
    args = parser.parse_args(arguments)
    handler = getattr(args, "func", None)
    if handler is None:
        if args.command is None:
            return _no_command(parser)
        # A command group given without its subcommand, e.g. plain `bc-tui sandbox`.
        parser.parse_args([args.command, "--help"])
        return EXIT_USAGE
    try:
        return int(handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The reader of stdout went away (``bc-tui log | head -1``): stop quietly, as other tools do.

    The job itself has run and is in the log; only its report had no reader left. stdout is
    pointed at /dev/null so that Python's last flush at exit does not fail a second time.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
