"""Sandbox setups other than the default one, for the tests that are about them.

The default sandbox is as strict as a production tenant: BC's number series refuse a number
typed in, and BC shows ``lastModifiedDateTime`` in whole seconds. A few tests are about what
happens on a tenant set up otherwise (CRONUS, say); they take one of these setups by overriding
the ``sandbox_settings`` fixture.
"""

from __future__ import annotations

import pytest

from bc_tui.sandbox.settings import SandboxSettings

#: BC's number series allow numbers typed in ("Manual Nos."): a create may name its number.
MANUAL_NUMBERS = SandboxSettings(data_dir=None, customers=50, bc_refuse_manual_numbers=False)
manual_numbers = pytest.mark.parametrize("sandbox_settings", [MANUAL_NUMBERS], ids=["manual-numbers"])

#: BC shows ``lastModifiedDateTime`` in milliseconds, as an AL DateTime on CRONUS does.
SUB_SECOND_TIMES = SandboxSettings(data_dir=None, customers=50, bc_modified_whole_seconds=False)
sub_second_times = pytest.mark.parametrize("sandbox_settings", [SUB_SECOND_TIMES], ids=["sub-second-times"])
