"""Every model, imported once so that SQLAlchemy and Alembic see all tables."""

from .accounts.models import ApiToken, User, UserRole  # noqa: F401
from .audit.models import AuditEvent  # noqa: F401
from .awards.models import Award  # noqa: F401
from .ceremonies.models import Ceremony, Registration  # noqa: F401
from .districts.models import District  # noqa: F401
from .mail.models import OutboxAttachment, OutboxMessage  # noqa: F401
from .medals.models import Medal, MedalQuota  # noqa: F401
from .nominations.importer import ImportUpload  # noqa: F401
from .nominations.models import Nomination, NominationDocument, Nominee  # noqa: F401
