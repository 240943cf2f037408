# The household-file fixtures (make_household needs build_household and standard; walk needs the reviewers).
from tests.dossiers.conftest import (  # noqa: F401
    build_household,
    household,
    make_household,
    reviewer,
    second_reviewer,
    standard,
    walk,
)
