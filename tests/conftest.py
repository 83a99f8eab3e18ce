import os

from hypothesis import HealthCheck, settings

# Headless Chromium for any test that checks rendered HTML.
from browser_support import artifact_dir, browser  # noqa: F401  (fixtures)

# One real 2-process Dask cluster, shared by the tests that need one.
from dask_support import dask_client  # noqa: F401  (fixture)

# "ci" is deterministic so a red CI run replays exactly; "dev" explores more.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
