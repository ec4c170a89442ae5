"""Shared records for the domain tests: one coupled customer/account and contact pair, in sync."""

from __future__ import annotations

from typing import Any

import pytest

from bc_tui.domain.defaults import contact_mapping, customer_mapping
from bc_tui.domain.mappings import TableMapping


@pytest.fixture
def customers() -> TableMapping:
    return customer_mapping()


@pytest.fixture
def contacts() -> TableMapping:
    return contact_mapping()


@pytest.fixture
def bc_customer() -> dict[str, Any]:
    return {
        "id": "bc-0001",
        "number": "10000",
        "displayName": "Adatum Corporation",
        "addressLine1": "192 Market Square",
        "addressLine2": "",
        "city": "Atlanta",
        "state": "GA",
        "country": "US",
        "postalCode": "31772",
        "phoneNumber": "555-0100",
        "email": "info@adatum.example",
        "website": "https://adatum.example",
        "creditLimit": 10000,
        "currencyCode": "",
        "blocked": " ",
        "@odata.etag": 'W/"JzE7"',
        "lastModifiedDateTime": "2026-01-01T10:00:00.000Z",
    }


@pytest.fixture
def dv_account() -> dict[str, Any]:
    return {
        "accountid": "dv-0001",
        "name": "Adatum Corporation",
        "address1_line1": "192 Market Square",
        "address1_line2": None,
        "address1_city": "Atlanta",
        "address1_stateorprovince": "GA",
        "address1_country": "us",  # Dataverse keeps what was typed; codes compare case-insensitively
        "address1_postalcode": "31772",
        "telephone1": "555-0100",
        "emailaddress1": "info@adatum.example",
        "websiteurl": "https://adatum.example",
        "creditlimit": 10000.0,
        "statecode": 0,
        "customertypecode": 3,
        "@odata.etag": 'W/"501"',
        "modifiedon": "2026-01-01T10:00:01Z",
    }


@pytest.fixture
def bc_contact() -> dict[str, Any]:
    return {
        "id": "bc-c-01",
        "number": "CT000012",
        "type": "Person",
        "displayName": "Mary Ann Smith",
        "companyNumber": "CT000010",
        "companyName": "Adatum Corporation",
        "email": "mary@adatum.example",
        "phoneNumber": "555-0111",
        "mobilePhoneNumber": "",
        "website": "",
        "addressLine1": "192 Market Square",
        "city": "Atlanta",
        "country": "US",
        "postalCode": "31772",
        "state": "GA",
    }


@pytest.fixture
def dv_contact() -> dict[str, Any]:
    return {
        "contactid": "dv-c-01",
        "firstname": "Mary",
        "middlename": "Ann",
        "lastname": "Smith",
        "fullname": "Mary Ann Smith",
        "jobtitle": "Buyer",
        "emailaddress1": "mary@adatum.example",
        "telephone1": "555-0111",
        "address1_line1": "192 Market Square",
        "address1_city": "Atlanta",
        "address1_country": "US",
        "address1_postalcode": "31772",
        "address1_stateorprovince": "GA",
        "statecode": 0,
    }
