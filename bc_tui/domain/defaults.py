"""The default table mappings: CUSTOMER ↔ accounts and CONTACT ↔ contacts.

These are BC's defaults (docs/coupling-and-sync.md "Table and field mappings") written in the REST APIs' own field
names (docs/coupling-and-sync.md "Field names of the APIs"). A BC field mapping that cannot work over the APIs bc-tui
uses is *kept, disabled*, with the reason beside it, so the screens can show the full BC mapping and say why a row
is off:

- the BC API v2.0 does not expose the field (Fax No., Contact, Primary Contact No., a contact's
  First Name / Middle Name / Surname, a contact's Currency and Salesperson Code), or
- the Dataverse attribute is a lookup to another table (``transactioncurrencyid`` →
  transactioncurrencies, ``ownerid`` → systemusers, ``primarycontactid`` → contacts) which needs
  a currency / user / contact coupling that bc-tui does not keep, or
- the two sides hold different kinds of value (BC API's ``paymentTermsId`` is a GUID, Dataverse's
  ``paymenttermscode`` an option set number).
"""

from __future__ import annotations

from bc_tui.domain.mappings import Condition, Direction, FieldMapping, TableMapping
from bc_tui.domain.transformations import PERSON_NAME

TO_DV = Direction.TO_DATAVERSE


def _address_fields() -> tuple[FieldMapping, ...]:
    """The address rows shared by CUSTOMER and CONTACT."""
    return (
        FieldMapping("Address", "addressLine1", "address1_line1"),
        FieldMapping("Address 2", "addressLine2", "address1_line2"),
        FieldMapping("Post Code", "postalCode", "address1_postalcode", is_code=True),
        FieldMapping("City", "city", "address1_city"),
        FieldMapping("Country/Region Code", "country", "address1_country", is_code=True),
        FieldMapping("County", "state", "address1_stateorprovince"),
    )


def customer_mapping() -> TableMapping:
    """CUSTOMER ↔ accounts: bidirectional; BC not blocked; Dataverse active customers."""
    fields = (
        FieldMapping("Name", "displayName", "name", use_for_matching=True, match_priority=0),
        # Not exposed by BC API v2.0 (the customer's "Contact" text field).
        FieldMapping("Contact", "contact", "address1_primarycontactname", enabled=False),
        *_address_fields(),
        # Dataverse side is a lookup to transactioncurrencies: needs a currency coupling.
        FieldMapping("Currency Code", "currencyCode", "_transactioncurrencyid_value", enabled=False, is_code=True),
        # Matching falls back to the e-mail address when the name is not a unique match.
        FieldMapping("E-Mail", "email", "emailaddress1", use_for_matching=True, match_priority=1),
        # Not exposed by BC API v2.0.
        FieldMapping("Fax No.", "faxNumber", "fax", enabled=False),
        FieldMapping("Home Page", "website", "websiteurl"),
        FieldMapping("Phone No.", "phoneNumber", "telephone1"),
        # BC API v2.0 has only paymentTermsId (a GUID); Dataverse paymenttermscode is an option set.
        FieldMapping("Payment Terms Code", "paymentTermsCode", "paymenttermscode", enabled=False, is_code=True),
        FieldMapping("Credit Limit (LCY)", "creditLimit", "creditlimit", direction=TO_DV),
        # Dataverse side is a lookup to systemusers (the owner): needs a salesperson/user coupling.
        FieldMapping(
            "Salesperson Code", "salespersonCode", "_ownerid_value", direction=TO_DV, enabled=False, is_code=True
        ),
        # Not exposed by BC API v2.0, and the Dataverse side is a lookup to contacts.
        FieldMapping(
            "Primary Contact No.",
            "primaryContactNumber",
            "_primarycontactid_value",
            enabled=False,
            clear_on_failed_sync=True,
        ),
    )
    return TableMapping(
        name="CUSTOMER",
        bc_entity="customers",
        dataverse_table="accounts",
        dataverse_key="accountid",
        dataverse_name_field="name",
        direction=Direction.BIDIRECTIONAL,
        # BC's "not blocked" is Blocked = ' ' (blank); the API sends it as " ".
        table_filter=(Condition("blocked", "eq", " "),),
        # Active accounts whose relationship type is Customer (customertypecode 3).
        integration_table_filter=(Condition("statecode", "eq", 0), Condition("customertypecode", "eq", 3)),
        fields=fields,
    )


def contact_mapping() -> TableMapping:
    """CONTACT ↔ contacts: bidirectional; BC persons with a company; Dataverse active contacts."""
    fields = (
        # BC API v2.0 has no first/middle/surname: the name travels as displayName, split into
        # Dataverse's parts and joined back by the person-name transformation.
        FieldMapping("Name", "displayName", "fullname", transformation=PERSON_NAME),
        FieldMapping("First Name", "firstName", "firstname", enabled=False),  # not in API v2.0; see Name
        FieldMapping("Middle Name", "middleName", "middlename", enabled=False),  # not in API v2.0; see Name
        FieldMapping("Surname", "surname", "lastname", enabled=False),  # not in API v2.0; see Name
        FieldMapping("E-Mail", "email", "emailaddress1", use_for_matching=True, match_priority=0),
        FieldMapping("Phone No.", "phoneNumber", "telephone1"),
        FieldMapping("Mobile Phone No.", "mobilePhoneNumber", "mobilephone"),
        # Not exposed by BC API v2.0.
        FieldMapping("Fax No.", "faxNumber", "fax", enabled=False),
        FieldMapping("Home Page", "website", "websiteurl"),
        # No "Job Title": BC API v2.0 contacts have no job title (docs/coupling-and-sync.md,
        # "Table and field mappings").
        *_address_fields(),
        # Not exposed on BC API v2.0 contacts; Dataverse side is a lookup to transactioncurrencies.
        FieldMapping("Currency Code", "currencyCode", "_transactioncurrencyid_value", enabled=False, is_code=True),
        # Not exposed on BC API v2.0 contacts; Dataverse side is a lookup to systemusers.
        FieldMapping(
            "Salesperson Code", "salespersonCode", "_ownerid_value", direction=TO_DV, enabled=False, is_code=True
        ),
    )
    return TableMapping(
        name="CONTACT",
        bc_entity="contacts",
        dataverse_table="contacts",
        dataverse_key="contactid",
        dataverse_name_field="fullname",
        direction=Direction.BIDIRECTIONAL,
        # Persons that belong to a company (the company's coupling gives the parent account).
        table_filter=(Condition("type", "eq", "Person"), Condition("companyNumber", "ne", "")),
        integration_table_filter=(Condition("statecode", "eq", 0),),
        fields=fields,
    )


def default_table_mappings() -> tuple[TableMapping, ...]:
    """BC's default table mappings for customers and contacts, in API field names."""
    return (customer_mapping(), contact_mapping())
