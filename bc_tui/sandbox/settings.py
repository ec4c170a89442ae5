"""Settings of one sandbox instance (what `bc-tui sandbox serve` takes on its command line)."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Deterministic identities, so that a reset sandbox always looks the same.
SANDBOX_NAMESPACE = uuid.UUID("6f0c1d9e-8a51-4c55-9a43-4f1c2b7d0e11")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address: the only places the sandbox listens (or is reached) on."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class FaultSpec:
    """Fault injection rates (0.0-1.0) applied to API requests (never to the token endpoint).

    Parsed from a CLI string such as ``"429=0.05,503=0.05,drop=0.02,lost=0.02"``.
    ``drop`` closes the connection before the request is processed; ``lost`` processes the
    request (a write commits) and then closes the connection without a response.
    """

    throttle: float = 0.0
    unavailable: float = 0.0
    drop: float = 0.0
    lost: float = 0.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``"429=0.1,503=0.1,drop=0.05,lost=0.05,seed=7"``; raise ValueError on nonsense."""
        names = {"429": "throttle", "503": "unavailable", "drop": "drop", "lost": "lost"}
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            if not sep:
                raise ValueError(f"fault {part!r} needs a rate, e.g. {part}=0.05")
            if key == "seed":
                values["seed"] = int(raw)
                continue
            if key not in names:
                raise ValueError(f"unknown fault {key!r}; known faults: 429, 503, drop, lost")
            rate = float(raw)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {key} must be between 0 and 1, got {raw}")
            values[names[key]] = rate
        return cls(**values)  # type: ignore[arg-type]

    @property
    def any(self) -> bool:
        return any((self.throttle, self.unavailable, self.drop, self.lost))


@dataclass(frozen=True)
class SandboxSettings:
    """Everything that makes one sandbox instance.

    ``data_dir=None`` keeps all data in memory (tests); otherwise the data persists in
    ``data_dir/sandbox.sqlite`` between runs and is seeded with demo data on first use.
    """

    data_dir: Path | None = None
    customers: int = 50
    tenant: str = "sandbox-tenant"
    environment: str = "production"
    organization: str = "sandbox"
    client_id: str = "bc-tui-sandbox"
    client_secret: str = "sandbox-secret"
    token_lifetime_s: int = 3599
    #: PEM texts of the certificates registered for the app (certificate sign-in).
    client_certificates: tuple[str, ...] = ()
    #: Seconds a device code client waits between polls (the identity platform says 5).
    device_code_interval_s: int = 5
    #: Approve a device code sign-in by itself after this many polls (0: wait for ``approve-device``).
    device_code_approve_after: int = 0
    latency_ms: int = 0
    limits: bool = False
    faults: FaultSpec = field(default_factory=FaultSpec)
    #: Dataverse's suggested degree of parallelism, sent in ``x-ms-dop-hint``.
    dop_hint: int = 4
    #: Overridable so that tests can exercise the limits quickly.
    bc_concurrency: int = 5
    dataverse_concurrency: int = 52
    requests_per_window: int = 6000
    window_s: float = 300.0
    #: BC's No. Series without "Manual Nos.", as on many production tenants: a create or rename
    #: that names its own number is refused (docs/sandbox-fidelity.md, "Business Central API
    #: v2.0"). Off (``serve --allow-manual-numbers``): CRONUS allows them.
    bc_refuse_manual_numbers: bool = True
    #: BC refuses ``or`` between two different fields in ``$filter`` (see
    #: ``bc_filter_rules.or_across_fields``). On, as on every real tenant.
    bc_refuse_or_across_fields: bool = True
    #: BC compares text in ``$filter`` exactly (``eq``, ``startswith``, ``contains``…) unless
    #: the filter folds it with ``tolower``/``toupper``; on: a tenant whose database collation
    #: ignores case (docs/sandbox-fidelity.md, "Business Central API v2.0").
    bc_text_ignores_case: bool = False
    #: BC shows ``lastModifiedDateTime`` in whole seconds, as Dataverse shows ``modifiedon``
    #: (off, ``serve --sub-second-times``: milliseconds, as CRONUS does); see ``precision``.
    bc_modified_whole_seconds: bool = True

    @property
    def company_id(self) -> str:
        """The id of the one demo company (CRONUS)."""
        return str(uuid.uuid5(SANDBOX_NAMESPACE, f"company:{self.tenant}:{self.environment}"))
