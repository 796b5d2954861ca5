"""Identity and access control: who may read the wall, and who may act on it.

The names here are the package's interface for the rest of the product: routes depend on
``reader()`` / ``writer(role)``, Dash callbacks ask ``current_principal()``.
"""

from dashboard.auth.deps import current_principal, may_show_page, principal_of, reader, reporter_name, writer
from dashboard.auth.principal import KIOSK, ROLES, Principal

__all__ = [
    "KIOSK",
    "ROLES",
    "Principal",
    "current_principal",
    "may_show_page",
    "principal_of",
    "reader",
    "reporter_name",
    "writer",
]
