"""Config files for the config tests: the Contoso profile and a writer for config.toml."""

from __future__ import annotations

from pathlib import Path

#: A complete connection profile, as the README shows one.
CONTOSO_PROFILE = """
[profiles.contoso]
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_env = "CONTOSO_SECRET"
bc_environment = "production"
bc_company_id = "c0ffee00-0000-0000-0000-000000000000"
dataverse_url = "https://contoso.crm.dynamics.com/"
"""


def write(tmp_path: Path, text: str) -> Path:
    """``text`` saved as ``tmp_path/config.toml`` (UTF-8); returns its path."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
