"""The production settings, with collected static files in a folder of the smoke test's own (STATIC_ROOT is not
read from the environment, and the test must not write into the working tree)."""

import os

from hardship.settings import *  # noqa: F403

STATIC_ROOT = os.environ["SMOKE_STATIC_ROOT"]
