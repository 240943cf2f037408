# The household-file fixtures (make_household needs build_household and standard), for the restore drill.
from tests.dossiers.conftest import build_household, make_household, standard  # noqa: F401
