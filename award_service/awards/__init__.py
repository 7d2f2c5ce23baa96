"""The award register: certificates issued on approval, printed, presented,
revoked and verified.  Importing the package connects the register to the
nominations workflow's approval event (:mod:`award_service.nominations.events`)."""

from . import service  # noqa: F401  (connects issue_awards to nominations.events.approved)
