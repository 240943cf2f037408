"""The household file (一户一档): household, members, income, assessments, the register's events.

One module per concept; everything is importable from `dossiers.models` as before.
"""

from dossiers.legacy.models import CivilRoster, CivilRosterEntry, ImportBatch  # registers the models
from dossiers.models.assessments import Assessment
from dossiers.models.household import Household, HouseholdQuerySet, Member
from dossiers.models.lifecycle import ExitKind, ExitProposal, Objection, RegisterEvent, RemovalReason, Transfer, Visit
from dossiers.models.pairing import EndReason, Helper, HelpingUnitKind, HelpKind, Pairing
from dossiers.models.standards import FileNumberSequence, LocalStandard, money

__all__ = [
    "Assessment", "CivilRoster", "CivilRosterEntry", "EndReason", "ExitKind", "ExitProposal", "FileNumberSequence",
    "Helper", "HelpKind", "HelpingUnitKind", "Household", "HouseholdQuerySet", "ImportBatch", "LocalStandard", "Member",
    "Objection", "Pairing", "RegisterEvent", "RemovalReason", "Transfer", "Visit", "money",
]
