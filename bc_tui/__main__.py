"""``python -m bc_tui``: the ``bc-tui`` command (what ``bc-tui web`` serves to each browser)."""

import sys

from bc_tui.cli import main

sys.exit(main())
