"""The service's clock as the connectors read it: the Date header of a one-row read."""

from __future__ import annotations

from datetime import UTC, datetime

from bc_tui.connectors import BusinessCentralClient, DataverseClient
from bc_tui.connectors.entity_client import server_date
from bc_tui.connectors.models import BcCustomer, DataverseAccount


async def test_server_time_comes_from_the_service_on_both_sides(bc: BusinessCentralClient, dv: DataverseClient) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    bc_time = await bc.server_time(BcCustomer)
    dv_time = await dv.server_time(DataverseAccount)
    after = datetime.now(UTC)
    for moment in (bc_time, dv_time):
        assert moment is not None and moment.tzinfo is not None and moment.microsecond == 0
        assert before <= moment <= after


def test_a_missing_or_unusable_date_header_is_no_time_at_all() -> None:
    assert server_date("Tue, 01 Dec 2026 07:19:38 GMT") == datetime(2026, 12, 1, 7, 19, 38, tzinfo=UTC)
    assert server_date("Tue, 01 Dec 2026 08:19:38 +0100") == datetime(2026, 12, 1, 7, 19, 38, tzinfo=UTC)
    assert server_date("Tue, 01 Dec 2026 07:19:38 -0000") == datetime(2026, 12, 1, 7, 19, 38, tzinfo=UTC)
    assert server_date(None) is None
    assert server_date("") is None
    assert server_date("yesterday at noon") is None
