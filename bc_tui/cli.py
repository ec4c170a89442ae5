"""The ``bc-tui`` command: the terminal app by default, plus headless subcommands.

Heavy modules (textual, starlette, uvicorn, httpx) are imported inside the handlers, so that
``bc-tui --help`` and ``bc-tui --version`` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
    BcTuiApp(
        backend=backend,
        keymap=settings.keys,
        config_warnings=settings.warnings,
        config_path=settings.config_path,
        close_backend=True,
    ).run()
    return EXIT_OK


def safe_streams() -> None:
    """Make stdout and stderr replace what their encoding cannot show instead of crashing.

    An ASCII-only terminal (``LC_ALL=C``, ``PYTHONIOENCODING=ascii``) or a pipe in a C locale
    cannot encode a customer called ``Müller``; Python's default is to raise
    UnicodeEncodeError mid-output. A ``?`` in its place is better than a traceback. The JSON
    output escapes non-ASCII itself on such a stream (see ``commands.common.emit``).
    """
    for stream in (sys.stdout, sys.stderr):
        # "strict", and "surrogateescape" (Python's choice for a C locale), both raise here.
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "surrogateescape"):
            # A closed or detached stream raises: there is nothing to print to anyway.
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="replace")


def _argv_text(argv: list[str]) -> list[str] | str:
    """The arguments as text, or one sentence when one of them is not text at all.

    Under a C locale (``LC_ALL=C``) Python decodes the command line as ASCII and keeps every
    other byte as a lone surrogate, which no later step can encode (a name typed as ``Müller``
    would crash the request). Such an argument is decoded again as UTF-8, what terminals send
    nowadays; if it is not UTF-8 either, the user is told which argument to retype.
    """
    words = []
    for position, word in enumerate(argv, start=1):
        if any("\udc80" <= char <= "\udcff" for char in word):
            try:
                word = word.encode("utf-8", "surrogateescape").decode("utf-8")
            except UnicodeError:
                return _not_utf8(position, word)
        words.append(word)
    return words


def _not_utf8(position: int, word: str) -> str:
    """The sentence for argument ``position`` whose bytes (kept as lone surrogates) are not UTF-8."""
    from bc_tui.domain.text import shorten

    undecoded = [ord(char) - 0xDC00 for char in word if "\udc80" <= char <= "\udcff"]
    shown = shorten("".join("\ufffd" if "\udc80" <= char <= "\udcff" else char for char in word))
    return (
        f"Argument {position} of the command line ('{shown}') is not valid UTF-8 text (byte "
        f"0x{undecoded[0]:02X}); type it again in UTF-8 (check the terminal's or the script's encoding)."
    )


def crash_log_folder() -> Path:
    """Where the details of an unexpected error are written (``BC_TUI_DATA_DIR``/logs)."""
    from bc_tui.config import default_data_dir

    return default_data_dir() / "logs"


def _unexpected(command: str, error: BaseException) -> int:
    """One sentence for a bug: the command, the kind of error, and where the traceback went.

    The traceback is written to a file rather than the terminal: it helps whoever fixes the
    bug, but on the terminal it buries the one sentence a user needs (see docs/bad-input.md).
    """
    import datetime
    import traceback

    from bc_tui.domain.text import shorten

    kind = type(error).__name__
    details = "".join(traceback.format_exception(error))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = crash_log_folder()
    path = folder / f"error-{stamp}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as log:
            log.write(f"bc-tui {__version__}: {command}\n{details}")
        where = f"the details are in {path}"
    except OSError as write_error:  # a full or read-only disk must not hide the first error
        where = f"its details could not be written to {folder} ({write_error.strerror or type(write_error).__name__})"
    sys.stderr.write(
        f"bc-tui: The command '{command}' stopped on an unexpected error ({kind}: {shorten(error, 120)}); "
        f"{where}. Run it again with BC_TUI_DEBUG=1 to see the traceback here.\n"
    )
    sys.stderr.flush()
    return EXIT_USAGE


def _command_name(args: argparse.Namespace) -> str:
    words = [getattr(args, "command", None), getattr(args, "sandbox_command", None)]
    return " ".join(w for w in words if w) or "bc-tui"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bc-tui`` console script; returns the process exit code.

    Exit codes: 0 done, 1 some records failed (or the job did not finish), 2 the command could
    not do its work (bad input, unusable setup, or an unexpected error), 130 interrupted, 141 the
    reader of stdout went away (``bc-tui log | head``).
    """
    safe_streams()
    words = _argv_text(sys.argv[1:] if argv is None else list(argv))
    if isinstance(words, str):
        sys.stderr.write(f"bc-tui: {words}\n")
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(words)
    handler = getattr(args, "func", None)
    if handler is None:
        if args.command is None:
            handler = lambda _args: _no_command(parser)  # noqa: E731
        else:
            # A command group given without its subcommand, e.g. plain `bc-tui sandbox`.
            parser.parse_args([args.command, "--help"])
            return EXIT_USAGE
    try:
        return int(handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`bc-tui log | head`): stop quietly, as other command-line tools do.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        if os.environ.get("BC_TUI_DEBUG"):
            raise
        if error.errno not in _DISK_ERRNOS:
            return _unexpected(_command_name(args), error)
        # Output redirected to a full disk (or /dev/full): say so, there is no bug to log.
        _silence_stdout()
        sys.stderr.write(
            f"bc-tui: The command '{_command_name(args)}' could not write its output or a file "
            f"({error.strerror or 'write failed'}); free some disk space and run it again.\n"
        )
        return EXIT_USAGE
    except Exception as error:
        if os.environ.get("BC_TUI_DEBUG"):
            raise
        return _unexpected(_command_name(args), error)


#: Errors of a full or failing disk (also what writing to /dev/full gives).
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
