import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlkit import protocols
from mlkit.protocols import Clock, Model, Notification, ProbabilisticModel

CLASSIFIERS = [
    LogisticRegression(),
    RandomForestClassifier(n_estimators=5, random_state=0),
    make_pipeline(StandardScaler(), LogisticRegression()),
]


@pytest.fixture
def data(mlkit_rng):
    X = mlkit_rng.normal(size=(60, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("estimator", CLASSIFIERS)
def test_sklearn_classifiers_are_probabilistic_models_unchanged(estimator, data):
    X, y = data
    fitted = estimator.fit(X, y)
    assert isinstance(fitted, Model)
    assert isinstance(fitted, ProbabilisticModel)
    assert fitted.predict_proba(X).shape == (60, 2)


@pytest.mark.parametrize("estimator", [LinearRegression(), KMeans(n_clusters=2, n_init=1)])
def test_sklearn_regressors_are_models_but_not_probabilistic(estimator, data):
    X, y = data
    fitted = estimator.fit(X, y)
    assert isinstance(fitted, Model)
    assert not isinstance(fitted, ProbabilisticModel)


def test_objects_without_predict_are_not_models():
    assert not isinstance(object(), Model)
    assert not isinstance(StandardScaler(), Model)
    assert not isinstance(np.zeros(3), Clock)


def test_only_protocols_checked_at_runtime_are_runtime_checkable():
    """runtime_checkable is reserved for protocols that mlkit tests with isinstance."""
    runtime = {
        name
        for name in protocols.__all__
        if getattr(getattr(protocols, name), "_is_runtime_protocol", False)
    }
    assert runtime == {"Model", "ProbabilisticModel", "Clock"}


def test_protocols_are_small_and_documented():
    for name in protocols.__all__:
        proto = getattr(protocols, name)
        assert proto.__doc__, name
        if getattr(proto, "_is_protocol", False):
            own = [m for m in vars(proto) if not m.startswith("_") and callable(vars(proto)[m])]
            # What users implement around a model stays tiny; a storage back end
            # needs one method per thing the tracker or registry does with it.
            limit = 8 if name.endswith("Store") else 3
            assert 1 <= len(own) <= limit, (name, own)
            assert proto.__doc__.startswith("Protocol:"), name


def test_notification_is_frozen_with_defaults():
    note = Notification("drift on 'amount'", "PSI 0.31 > 0.25")
    assert note.severity == "warning"
    assert dict(note.labels) == {}
    with pytest.raises(AttributeError):
        note.title = "changed"
