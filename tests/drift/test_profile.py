"""Reference profiles that save and load without pickle; batch profiles that merge."""

import zipfile

import numpy as np
import pandas as pd
import pytest

from mlkit.drift import BatchProfile, DriftDetector, ReferenceProfile
from mlkit.errors import ConfigurationError, DataError


def make_frame(rng, n, shift=0.0):
    frame = pd.DataFrame(
        {
            "x": rng.normal(shift, 1, n),
            "y": rng.exponential(1, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "flag": rng.random(n) < 0.3,
        }
    )
    frame.loc[rng.random(n) < 0.05, "y"] = np.nan
    return frame


@pytest.fixture
def detector(mlkit_rng):
    return DriftDetector().fit(make_frame(mlkit_rng, 4000))


def test_profile_round_trips_through_one_npz_without_pickle(detector, mlkit_rng, tmp_path):
    path = detector.profile_.save(tmp_path / "ref.npz")
    assert path.exists()
    assert list(tmp_path.iterdir()) == [path], "no temporary file may be left behind"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert "meta.npy" in names
    loaded = ReferenceProfile.load(path)  # np.load(allow_pickle=False) inside
    assert loaded.fingerprint == detector.profile_.fingerprint
    assert loaded.columns == detector.profile_.columns
    cur = make_frame(mlkit_rng, 1500, shift=0.3)
    again = DriftDetector.from_profile(loaded)
    pd.testing.assert_frame_equal(again.test(cur).to_frame(), detector.test(cur).to_frame())


def test_load_rejects_other_files(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, meta=np.frombuffer(b'{"format": "x"}', dtype=np.uint8))
    with pytest.raises(DataError, match="not an mlkit reference profile"):
        ReferenceProfile.load(other)


def test_unsaveable_categories_fail_before_writing(mlkit_rng, tmp_path):
    ref = pd.DataFrame({"when": pd.Series([pd.Timestamp("2024-01-01")] * 5, dtype=object)})
    det = DriftDetector(categorical=["when"]).fit(ref)
    target = tmp_path / "ref.npz"
    with pytest.raises(ConfigurationError, match="cannot save category"):
        det.profile_.save(target)
    assert not list(tmp_path.iterdir())


def test_batch_profile_of_chunks_equals_profile_of_the_whole(detector, mlkit_rng):
    data = make_frame(mlkit_rng, 3000, shift=0.2)
    whole = detector.profile(data)
    parts = [detector.profile(data.iloc[i : i + 700]) for i in range(0, 3000, 700)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    streamed = detector.profile()
    for i in range(0, 3000, 450):
        streamed.update(data.iloc[i : i + 450])
    for other in (merged, streamed):
        assert other.n_rows == whole.n_rows == 3000
        for field in ["grid_counts", "bin_counts", "category_counts", "missing_numeric"]:
            np.testing.assert_array_equal(getattr(other, field), getattr(whole, field))


def test_profile_statistics_are_exact_or_bounded(detector, mlkit_rng):
    """PSI, chi2, TVD and missing from a profile equal the raw test; KS stays in its bound."""
    data = make_frame(mlkit_rng, 2500, shift=0.25)
    exact = detector.test(data).to_frame().set_index(["column", "test"])
    from_profile = detector.test_profile(detector.profile(data)).to_frame()
    from_profile = from_profile.set_index(["column", "test"])
    for key in [
        ("x", "psi"),
        ("y", "psi"),
        ("city", "chi2"),
        ("city", "tvd"),
        ("y", "missing"),
        ("flag", "psi"),
    ]:
        assert from_profile.loc[key, "statistic"] == pytest.approx(exact.loc[key, "statistic"])
        assert from_profile.loc[key, "drifted"] == exact.loc[key, "drifted"]
    for col in ["x", "y"]:
        d_grid = from_profile.loc[(col, "ks"), "statistic"]
        d = exact.loc[(col, "ks"), "statistic"]
        assert d_grid <= d + 1e-15
        assert d <= d_grid + 2.5 / 1000  # grid of 1000 reference quantile cells
        assert "approximate" in from_profile.loc[(col, "ks"), "note"]
        assert "raw values" in from_profile.loc[(col, "wasserstein"), "reason"]


def test_profiles_of_different_references_do_not_merge(detector, mlkit_rng):
    other = DriftDetector().fit(make_frame(mlkit_rng, 100))
    with pytest.raises(ConfigurationError, match="different reference"):
        detector.profile().merge(other.profile())
    with pytest.raises(ConfigurationError, match="another reference"):
        other.test_profile(detector.profile())


def test_batch_profile_pickles_small(detector):
    import pickle

    blob = pickle.dumps(detector.profile())
    assert len(blob) < 200_000  # the counting spec only, never the reference values
    assert isinstance(pickle.loads(blob), BatchProfile)
