"""The terminal app shows the schema check's findings once, as notifications, at connect."""

from __future__ import annotations

from typing import Any

from pilot_waits import wait_for

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend

TUI_SIZE = (120, 40)
MISSING = {
    "CUSTOMER": {
        "fields": {"Customer Rating": {"bc_field": "customerRating", "dataverse_field": "new_vatregistrationnumber"}}
    }
}


async def test_a_missing_field_is_told_once_and_the_app_still_connects(
    sandbox_app, sandbox_info: dict[str, Any], tui_database_url: str
) -> None:
    backend = Backend(
        profile_from_sandbox_info(sandbox_info),
        tui_database_url,
        transport=asgi_transport(sandbox_app),
        mapping_overrides=MISSING,
    )
    app = BcTuiApp(backend=backend)
    try:
        async with app.run_test(size=TUI_SIZE) as pilot:
            await wait_for(
                pilot, lambda: app.connected and any(n.title == "Field mappings" for n in app._notifications)
            )
            told = [n.message for n in app._notifications if n.title == "Field mappings"]
            assert told == [
                "The field mapping Customer Rating of CUSTOMER names the Business Central field customerRating, "
                "which this tenant does not have, so it is left out; fix the field name or set enabled = false "
                'under [mappings.CUSTOMER.fields."Customer Rating"] in your config.'
            ]
            assert backend.session is not None
            assert not backend.session.mapping("CUSTOMER").field_by_label("Customer Rating").enabled
    finally:
        await backend.close()
