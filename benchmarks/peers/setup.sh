#!/usr/bin/env bash
# Create one virtual environment per peer under benchmarks/.envs/<peer>/,
# from PyPI only. Idempotent: an environment whose install finished (marked by
# .ok) is kept; a half-made one is removed and made again.
#
#   bash benchmarks/peers/setup.sh               # every peer
#   bash benchmarks/peers/setup.sh nannyml       # only the ones named
#   PYTHON=python3.11 bash benchmarks/peers/setup.sh
#
# The peers pin numpy/pandas versions that cannot live beside mlkit's (and
# beside each other), hence one environment each.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
envs="$(dirname "$here")/.envs"
python="${PYTHON:-python3}"

# No usage telemetry from the peers, while installing or running.
export DO_NOT_TRACK=1 NML_DISABLE_USAGE_LOGGING=1 EVIDENTLY_DISABLE_TELEMETRY=1
export MLFLOW_DISABLE_TELEMETRY=true
export PIP_DISABLE_PIP_VERSION_CHECK=1

# What each peer's environment gets (pip requirement specifiers).
#  - evidently 0.7.23 fails to import with pandas 3, so pandas stays on 2.3.
#  - alibi-detect's plain install has no TensorFlow/PyTorch backend; KSDrift and
#    TabularDrift are numpy/scipy detectors and import without one.
#  - nannyml 0.13.1 (the latest) imports statsmodels without declaring it, and
#    predates pandas 3, so it gets statsmodels and pandas 2.3.
#  - mlflow (tracking benchmark): mlflow-skinny has the SQLite tracking store but
#    leaves out SQLAlchemy and Alembic, which that store needs, and pandas, which
#    mlflow.search_runs returns.
declare -A spec=(
  [evidently]="evidently==0.7.23 pandas>=2.3,<3"
  [alibi-detect]="alibi-detect==0.13.0"
  [nannyml]="nannyml==0.13.1 statsmodels pandas>=2.3,<3"
  [mlflow]="mlflow-skinny==3.17.2 sqlalchemy alembic pandas"
)
# How to check that the environment works.
declare -A check=(
  [evidently]="from evidently import Report; from evidently.presets import DataDriftPreset"
  [alibi-detect]="from alibi_detect.cd import KSDrift, TabularDrift"
  [nannyml]="import nannyml; nannyml.UnivariateDriftCalculator"
  [mlflow]="import tempfile, mlflow; d = tempfile.mkdtemp(); mlflow.set_tracking_uri(f'sqlite:///{d}/m.db'); r = mlflow.MlflowClient().create_run(mlflow.MlflowClient().create_experiment('x')); mlflow.MlflowClient().log_metric(r.info.run_id, 'm', 1.0); assert len(mlflow.search_runs(experiment_names=['x'])) == 1"
)

peers=("$@")
if [ ${#peers[@]} -eq 0 ]; then
  peers=(evidently alibi-detect nannyml mlflow)
fi

mkdir -p "$envs"
status=0
for peer in "${peers[@]}"; do
  if [ -z "${spec[$peer]+x}" ]; then
    echo "unknown peer: $peer (known: ${!spec[*]})" >&2
    status=2
    continue
  fi
  env="$envs/$peer"
  if [ -f "$env/.ok" ]; then
    echo "== $peer: exists ($env), skipped"
    continue
  fi
  echo "== $peer: creating $env"
  rm -rf "$env"
  "$python" -m venv "$env"
  # shellcheck disable=SC2086  # the spec is a list of words on purpose
  if "$env/bin/python" -m pip install --quiet --upgrade pip \
    && "$env/bin/python" -m pip install --quiet ${spec[$peer]} \
    && "$env/bin/python" -W ignore -c "${check[$peer]}"; then
    "$env/bin/python" -m pip freeze >"$env/freeze.txt"
    touch "$env/.ok"
    echo "== $peer: ok; $(grep -i -E "^(${peer//-/[-_]}[-_a-z]*|numpy|pandas|scipy|sqlalchemy)==" "$env/freeze.txt" | tr '\n' ' ')"
  else
    echo "== $peer: FAILED (environment left at $env without .ok)" >&2
    status=1
  fi
done
exit $status
