"""The sandbox's deterministic demo data set: CRONUS in Business Central, a CRM in Dataverse.

The two sides overlap the way a real pair of systems does before anyone couples them:
about 60 % of the BC customers have a Dataverse account with the same name and e-mail,
about 15 % have one that is *similar* (another phone number or city, or the name differs in
case or whitespace), the rest exist in BC only, and some accounts exist only in Dataverse.
Person contacts follow the same pattern under their company.

Everything derives from a seeded ``random.Random`` and name-based UUIDs (``uuid5`` in
``SANDBOX_NAMESPACE``), so a reset sandbox always looks the same and customer *i* has the
same id whatever the size of the data set.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .bc_entities import BLANK_DATE, BLANK_GUID
from .demo_words import (
    CITIES,
    CREDIT_LIMITS,
    CRONUS_CUSTOMERS,
    CURRENCIES,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    MIDDLE_NAMES,
    NAME_CORES,
    NAME_HEADS,
    NAME_TAILS,
    PAYMENT_TERMS,
    SALESPEOPLE,
    STREETS,
)
from .settings import SANDBOX_NAMESPACE, SandboxSettings
from .store import EntityStore, paused_gc

Row = dict[str, Any]
Keyed = tuple[str, Row]


def _uuid5_factory() -> Callable[[str], str]:
    """A fast ``str(uuid.uuid5(SANDBOX_NAMESPACE, name))`` (100k+ ids must take milliseconds)."""
    base = hashlib.sha1(SANDBOX_NAMESPACE.bytes)
    # The RFC 4122 variant keeps the two top bits of the 17th hex digit: 10xx.
    variant = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}

    def uuid5(name: str) -> str:
        digest = base.copy()
        digest.update(name.encode())
        h = digest.hexdigest()
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:32]}"

    return uuid5


_uuid5 = _uuid5_factory()


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


_HEAD_SLUGS = tuple(_slug(h) for h in NAME_HEADS)
_CORE_SLUGS = tuple(_slug(c) for c in NAME_CORES)
#: E-mail spellings of the names (lower case, no umlaut), by the same index.
_FIRST_MAIL = tuple(n.lower().replace("ü", "ue") for n in FIRST_NAMES)
_LAST_MAIL = tuple(n.lower().replace("ü", "ue") for n in LAST_NAMES)
_N_CITIES, _N_STREETS, _N_SALESPEOPLE = len(CITIES), len(STREETS), len(SALESPEOPLE)
_N_CREDIT_LIMITS, _N_CURRENCIES, _N_PAYMENT_TERMS = len(CREDIT_LIMITS), len(CURRENCIES), len(PAYMENT_TERMS)
_N_FIRST, _N_LAST, _N_MIDDLE, _N_JOB_TITLES = len(FIRST_NAMES), len(LAST_NAMES), len(MIDDLE_NAMES), len(JOB_TITLES)
#: For a "similar" account in another city: every city but the customer's own.
_OTHER_CITIES = {c[0]: [o[0] for o in CITIES if o[0] != c[0]] for c in CITIES}


def _company_name(i: int) -> tuple[str, str]:
    """A unique, realistic-looking company name for customer ``i``, and its web domain."""
    if i < len(CRONUS_CUSTOMERS):
        name = CRONUS_CUSTOMERS[i]
        return name, f"{_slug(name.split()[0])}.example.com"
    heads, cores, tails = len(NAME_HEADS), len(NAME_CORES), len(NAME_TAILS)
    capacity = heads * cores * tails
    # A multiplier coprime to the capacity walks every combination once, in a scrambled order.
    k = (i * 7919) % capacity
    h, c, t = k % heads, (k // heads) % cores, k // (heads * cores)
    tail = NAME_TAILS[t]
    name = f"{NAME_HEADS[h]} {NAME_CORES[c]} {tail}" if tail else f"{NAME_HEADS[h]} {NAME_CORES[c]}"
    lap = i // capacity
    if lap:
        name = f"{name} {lap + 1}"
    return name, f"{_HEAD_SLUGS[h]}{_CORE_SLUGS[c]}{i}.example.com"


@dataclass
class _Demo:
    """The rows of every entity set, in load order."""

    companies: list[Keyed] = field(default_factory=list)
    customers: list[Keyed] = field(default_factory=list)
    contacts: list[Keyed] = field(default_factory=list)
    users: list[Keyed] = field(default_factory=list)
    accounts: list[Keyed] = field(default_factory=list)
    dv_contacts: list[Keyed] = field(default_factory=list)


def _bc_contact(
    contact_id: str,
    number: str,
    kind: str,
    name: str,
    in_company: Row,
    company: str,
    *,
    phone: str,
    mobile: str,
    email: str,
    website: str,
) -> Row:
    """A Business Central contact of ``kind`` (``Company``: the customer's own contact, or
    ``Person``) at the company ``in_company`` describes (its number, name and address)."""
    return {
        "id": contact_id,
        "number": number,
        "type": kind,
        "displayName": name,
        "searchName": name.upper(),
        **in_company,
        "phoneNumber": phone,
        "mobilePhoneNumber": mobile,
        "email": email,
        "website": website,
        "contactBusinessRelation": "Customer",
        "privacyBlocked": False,
        "taxRegistrationNumber": "",
        "lastInteractionDate": BLANK_DATE,
        "_company": company,
        "_version": 0,
        "_modified": "",
    }


class _Generator:
    """One pass over the customers, producing both sides consistently.

    Speed matters (100,000 customers make half a million rows at every fresh start), so the
    hot paths inline what would read better as helpers: ``seq[int(random() * len(seq))]`` is
    ``rng.choice``, ``low + int(random() * span)`` is ``rng.randint``, at a third of the cost.
    The order of the ``random()`` calls *is* the data set: changing it changes every row after.
    Rows end with ``_version``/``_modified`` placeholders: ``EntityStore.bulk_load`` stamps
    them in place, and a dict that already has the keys does not have to grow for them.
    """

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.company_id = settings.company_id
        self.rng = random.Random(f"bc-tui-sandbox:{settings.tenant}:{settings.environment}")
        self.random = self.rng.random
        self.demo = _Demo()
        self.contact_no = 0
        self.usd = _uuid5("transactioncurrency:USD")
        self.owners: list[str] = []

    # --------------------------------------------------------------- per side

    def company(self) -> None:
        name = "CRONUS International Ltd."
        self.demo.companies.append(
            (
                self.company_id,
                {
                    "id": self.company_id,
                    "name": name,
                    "displayName": name,
                    "businessProfileId": "",
                    "systemVersion": "27.0.38460.41215",
                },
            )
        )

    def users(self) -> None:
        people = (
            ("# bc-tui sandbox", "bc-tui-sandbox@sandbox.onmicrosoft.com"),  # the application user
            ("Annie Stevenson", "annie@sandbox.onmicrosoft.com"),
            ("Jim Olive", "jim@sandbox.onmicrosoft.com"),
            ("Otis Fallon", "otis@sandbox.onmicrosoft.com"),
        )
        for n, (fullname, domainname) in enumerate(people):
            user_id = _uuid5(f"systemuser:{n}")
            self.demo.users.append((user_id, {"systemuserid": user_id, "fullname": fullname, "domainname": domainname}))
            if n:
                self.owners.append(user_id)

    def customer(self, i: int) -> None:
        r = self.random
        company = self.company_id
        name, domain = _company_name(i)
        city, state, postal, country, prefix = CITIES[int(r() * _N_CITIES)]
        line1 = f"{1 + int(r() * 250)} {STREETS[int(r() * _N_STREETS)]}"
        line2 = "" if r() < 0.85 else f"Suite {100 + int(r() * 900)}"
        postal_code = f"{postal}{10 + int(r() * 90)}"
        customer_id = _uuid5(f"customer:{i}")
        phone = f"{prefix} {100 + int(r() * 900)} {1000 + int(r() * 9000)}"
        email, website = f"info@{domain}", f"www.{domain}"
        salesperson = SALESPEOPLE[int(r() * _N_SALESPEOPLE)]
        address = {
            "addressLine1": line1,
            "addressLine2": line2,
            "city": city,
            "state": state,
            "country": country,
            "postalCode": postal_code,
        }
        customer = {
            "id": customer_id,
            "number": str(10000 * (i + 1)),
            "displayName": name,
            "type": "Company",
            **address,
            "phoneNumber": phone,
            "email": email,
            "website": website,
            "salespersonCode": salesperson,
            "balanceDue": round(r() * 20000, 2) if r() < 0.6 else 0.0,
            "creditLimit": float(CREDIT_LIMITS[int(r() * _N_CREDIT_LIMITS)]),
            "currencyCode": CURRENCIES[int(r() * _N_CURRENCIES)],
            "blocked": "All" if i % 25 == 7 else " ",
            "taxLiable": False,
            "taxAreaId": BLANK_GUID,
            "taxAreaDisplayName": "",
            "taxRegistrationNumber": "",
            "currencyId": BLANK_GUID,
            "paymentTermsId": BLANK_GUID,
            "shipmentMethodId": BLANK_GUID,
            "paymentMethodId": BLANK_GUID,
            "_company": company,
            "_version": 0,
            "_modified": "",
        }
        self.demo.customers.append((customer_id, customer))

        contacts = self.demo.contacts
        self.contact_no += 1
        company_contact_no = f"CT{self.contact_no:06d}"
        company_contact_id = _uuid5(f"contact:company:{i}")
        in_company = {"companyNumber": company_contact_no, "companyName": name, **address}
        contacts.append(
            (
                company_contact_id,
                _bc_contact(
                    company_contact_id,
                    company_contact_no,
                    "Company",
                    name,
                    in_company,
                    company,
                    phone=phone,
                    mobile="",
                    email=email,
                    website=website,
                ),
            )
        )
        persons = []
        for p in range(1 if r() < 0.5 else 2):
            f, la = int(r() * _N_FIRST), int(r() * _N_LAST)
            first, last = FIRST_NAMES[f], LAST_NAMES[la]
            person_id = _uuid5(f"contact:person:{i}:{p}")
            self.contact_no += 1
            # BC API v2.0 contacts have no job title; the CRM's copy of the person has one.
            job = JOB_TITLES[int(r() * _N_JOB_TITLES)]
            number = f"CT{self.contact_no:06d}"
            person = _bc_contact(
                person_id,
                number,
                "Person",
                f"{first} {last}",
                in_company,
                company,
                phone=f"{prefix} {100 + int(r() * 900)} {1000 + int(r() * 9000)}",
                mobile=f"{prefix} {100 + int(r() * 900)} {1000 + int(r() * 9000)}",
                email=f"{_FIRST_MAIL[f]}.{_LAST_MAIL[la]}@{domain}",
                website="",
            )
            contacts.append((person_id, person))
            persons.append((first, last, job, person))

        kind = r()
        if kind < 0.60:
            self.account(i, customer, persons, prefix, similar=False)
        elif kind < 0.75:
            self.account(i, customer, persons, prefix, similar=True)

    def account(
        self, i: int, customer: Row, persons: list[tuple[str, str, str, Row]], prefix: str, similar: bool
    ) -> None:
        r = self.random
        account_id = _uuid5(f"account:{i}")
        name, phone, city = customer["displayName"], customer["phoneNumber"], customer["city"]
        if similar:
            variant = int(r() * 4)
            if variant == 0:
                phone = f"{prefix} {100 + int(r() * 900)} {1000 + int(r() * 9000)}"
            elif variant == 1:
                city = _OTHER_CITIES[city][int(r() * (_N_CITIES - 1))]
            elif variant == 2:
                name = name.upper() if r() < 0.5 else name.lower()
            else:
                name = f" {name.replace(' ', '  ', 1)}"
        address = (customer["addressLine1"], customer["addressLine2"] or None, city, customer["state"] or None)
        account = self.account_row(
            account_id,
            (name, phone, customer["email"], f"https://{customer['website']}"),
            (*address, customer["postalCode"], customer["country"]),
            customer["creditLimit"] or None,
            PAYMENT_TERMS[int(r() * _N_PAYMENT_TERMS)],
        )
        contacts: list[Row] = []
        for p, (first, last, job, person) in enumerate(persons):
            kind = r()
            if kind < 0.60:
                contacts.append(self.dv_contact(f"{i}:{p}", account, first, last, person, similar=False, job=job))
            elif kind < 0.75:
                contacts.append(self.dv_contact(f"{i}:{p}", account, first, last, person, similar=True, job=job))
        if r() < 0.10:  # a person the CRM knows and BC doesn't
            contacts.append(self.crm_only_contact(f"{i}:crm", account))
        self.add_account(account, contacts[0] if contacts else None)

    def account_row(
        self,
        account_id: str,
        reach: tuple[str, str, str, str],
        address: tuple[str, str | None, str, str | None, str, str],
        credit_limit: float | None,
        payment_terms: int | None,
    ) -> Row:
        """A Dataverse account: ``reach`` is its name, phone, e-mail and website; ``address`` its
        lines, city, state, postal code and country. Its owner is drawn last."""
        name, phone, email, website = reach
        line1, line2, city, state, postal_code, country = address
        return {
            "accountid": account_id,
            "name": name,
            "accountnumber": None,
            "telephone1": phone,
            "fax": None,
            "emailaddress1": email,
            "websiteurl": website,
            "address1_line1": line1,
            "address1_line2": line2,
            "address1_city": city,
            "address1_stateorprovince": state,
            "address1_postalcode": postal_code,
            "address1_country": country,
            "address1_primarycontactname": None,
            "creditlimit": credit_limit,
            "paymenttermscode": payment_terms,
            "customertypecode": 3,
            "statecode": 0,
            "statuscode": 1,
            "_primarycontactid_value": None,
            "_transactioncurrencyid_value": self.usd,
            "_ownerid_value": self.owners[int(self.random() * len(self.owners))],
            "_version": 0,
            "_modified": "",
        }

    def add_account(self, account: Row, primary_contact: Row | None) -> None:
        """Add ``account`` to the demo with its primary contact, if it has one."""
        if primary_contact is not None:
            account["_primarycontactid_value"] = primary_contact["contactid"]
            account["address1_primarycontactname"] = primary_contact["fullname"]
        self.demo.accounts.append((account["accountid"], account))

    def crm_only_contact(self, tag: str, account: Row) -> Row:
        """A Dataverse contact ``tag`` under ``account`` whom Business Central does not know."""
        f, la = int(self.random() * _N_FIRST), int(self.random() * _N_LAST)
        mail = f"{_FIRST_MAIL[f]}.{_LAST_MAIL[la]}"
        return self.dv_contact(tag, account, FIRST_NAMES[f], LAST_NAMES[la], None, similar=False, mail=mail)

    def dv_contact(
        self,
        tag: str,
        account: Row,
        first: str,
        last: str,
        person: Row | None,
        similar: bool,
        mail: str = "",
        job: str = "",
    ) -> Row:
        """The Dataverse contact ``tag`` under ``account``: a copy of ``person`` with job title ``job``,
        or (without one) someone only the CRM knows, whose e-mail starts with ``mail``."""
        r = self.random
        contact_id = _uuid5(f"dvcontact:{tag}")
        if person is not None:
            phone, email, mobile = person["phoneNumber"], person["email"], person["mobilePhoneNumber"]
        else:
            phone = f"{account['telephone1'][:-4]}{1000 + int(r() * 9000)}"
            job = JOB_TITLES[int(r() * _N_JOB_TITLES)]
            email = f"{mail}@{(account['emailaddress1'] or '@example.com').split('@', 1)[1]}"
            mobile = None
        if similar:
            if r() < 0.5:
                phone = f"{phone[:-4]}{1000 + int(r() * 9000)}"
            else:
                job = JOB_TITLES[int(r() * _N_JOB_TITLES)]
        contact = {
            "contactid": contact_id,
            "firstname": first,
            "middlename": MIDDLE_NAMES[int(r() * _N_MIDDLE)] or None,
            "lastname": last,
            "fullname": f"{first} {last}",
            "emailaddress1": email,
            "telephone1": phone,
            "mobilephone": mobile,
            "fax": None,
            "websiteurl": None,
            "jobtitle": job,
            "address1_line1": account["address1_line1"],
            "address1_line2": account["address1_line2"],
            "address1_city": account["address1_city"],
            "address1_stateorprovince": account["address1_stateorprovince"],
            "address1_postalcode": account["address1_postalcode"],
            "address1_country": account["address1_country"],
            "_parentcustomerid_value": account["accountid"],
            "statecode": 0,
            "statuscode": 1,
            "_version": 0,
            "_modified": "",
        }
        self.demo.dv_contacts.append((contact_id, contact))
        return contact

    def dataverse_only_account(self, j: int) -> None:
        r = self.random
        # Names from far beyond the BC range, so they never collide with a customer's name.
        name, domain = _company_name(10_000_000 + j)
        city, state, postal, country, prefix = CITIES[int(r() * _N_CITIES)]
        account_id = _uuid5(f"account:crm:{j}")
        phone = f"{prefix} {100 + int(r() * 900)} {1000 + int(r() * 9000)}"
        line1 = f"{1 + int(r() * 250)} {STREETS[int(r() * _N_STREETS)]}"
        postal_code = f"{postal}{10 + int(r() * 90)}"
        account = self.account_row(
            account_id,
            (name, phone, f"contact@{domain}", f"https://www.{domain}"),
            (line1, None, city, state or None, postal_code, country),
            None,
            None,
        )
        self.add_account(account, self.crm_only_contact(f"crm:{j}", account))


def generate(settings: SandboxSettings) -> _Demo:
    """Build the demo rows for ``settings.customers`` customers (deterministic)."""
    gen = _Generator(settings)
    with paused_gc():
        gen.company()
        gen.users()
        for i in range(settings.customers):
            gen.customer(i)
        for j in range(max(10, settings.customers // 10)):
            gen.dataverse_only_account(j)
    return gen.demo


def seed(store: EntityStore, settings: SandboxSettings) -> None:
    """Load the demo data set into ``store`` (which should be empty)."""
    demo = generate(settings)
    with store.atomic(), paused_gc(settings.customers * 5):
        store.bulk_load("bc/companies", iter(demo.companies))
        store.bulk_load("bc/customers", iter(demo.customers))
        store.bulk_load("bc/contacts", iter(demo.contacts))
        store.bulk_load("dv/systemusers", iter(demo.users))
        store.bulk_load("dv/accounts", iter(demo.accounts))
        store.bulk_load("dv/contacts", iter(demo.dv_contacts))


def ensure_seeded(store: EntityStore, settings: SandboxSettings) -> bool:
    """Seed an empty store; leave one that has data alone. True when it seeded."""
    with store.atomic():
        if store.count("bc/companies"):
            return False
        seed(store, settings)
        return True


def reset(store: EntityStore, settings: SandboxSettings) -> None:
    """Throw away every change and restore the demo data set."""
    with store.atomic():
        store.clear()
        seed(store, settings)
