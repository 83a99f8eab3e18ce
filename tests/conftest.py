import os

from hypothesis import HealthCheck, settings

# Headless Chromium for any test that checks rendered HTML.
from browser_support import artifact_dir, browser  # noqa: F401  (fixtures)

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
