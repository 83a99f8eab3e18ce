from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pandera.io import pandas_io

import mlkit.validation._io as io_module
from mlkit.errors import ConfigurationError, DataError
from mlkit.validation import (
    infer_schema,
    load_schema,
    mlkit_finite,
    mlkit_integral,
    mlkit_not_in_future,
    save_schema,
    schema_from_dict,
    schema_to_dict,
)
from mlkit.validation._io import FORMAT, FORMAT_VERSION, _describe_schema
from mlkit.validation._severity import severity_of, with_severity
from validation.schema_frames import (
    failure_table,
    other_dtype,
    out_of_range,
    reference_frames,
    unexpected_null,
    unseen_category,
)


def _check_summary(schema: pa.DataFrameSchema) -> dict[object, list[tuple[str, dict]]]:
    """Each column's checks as (name, statistics), the frame's under None."""
    summary = {
        name: [(check.name, dict(check.statistics)) for check in column.checks]
        for name, column in schema.columns.items()
    }
    summary[None] = [(check.name, dict(check.statistics)) for check in schema.checks]
    return summary


def _round_trip(schema: pa.DataFrameSchema, suffix: str) -> pa.DataFrameSchema:
    with tempfile.TemporaryDirectory() as folder:
        path = save_schema(schema, Path(folder) / f"schema{suffix}")
        return load_schema(path)


def _bad_copies(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, data: st.DataObject
) -> list[pd.DataFrame]:
    """One bad copy of each kind, for a column drawn at random (validation is slow)."""
    copies = []
    for make in (out_of_range, unseen_category, unexpected_null, other_dtype):
        bad = make(schema, frame)
        if bad:
            copies.append(bad[data.draw(st.sampled_from(sorted(bad)))])
    return copies


def _spice(schema: pa.DataFrameSchema, data: st.DataObject) -> pa.DataFrameSchema:
    """Add what pandera's own io would lose: severities, options, mlkit checks."""
    column = data.draw(st.sampled_from(sorted(schema.columns)))
    schema = with_severity(schema, "warning", column=column, check="in_range")
    schema = with_severity(schema, "info", column=None)
    checks = [*schema.columns[column].checks, mlkit_finite(raise_warning=True, name="no_inf")]
    return schema.update_column(column, checks=checks, title="t", description="d")


# --- round trips on random schemas ---------------------------------------------------


@given(reference_frames(max_rows=12), st.sampled_from([".json", ".yaml"]), st.data())
def test_round_trip_keeps_every_check_and_validates_alike(frame, suffix, data):
    """Names and statistics of every check survive, and good and bad frames fail alike."""
    schema = _spice(infer_schema(frame), data)
    loaded = _round_trip(schema, suffix)
    assert _check_summary(loaded) == _check_summary(schema)
    assert _describe_schema(loaded) == _describe_schema(schema)
    assert failure_table(loaded, frame) == failure_table(schema, frame)
    for bad in _bad_copies(infer_schema(frame), frame, data):
        assert failure_table(loaded, bad) == failure_table(schema, bad)


@given(reference_frames(max_rows=8))
def test_a_document_survives_json_and_yaml_text(frame):
    """schema_to_dict's output is plain data: json and yaml give it back unchanged."""
    document = schema_to_dict(infer_schema(frame))
    assert json.loads(json.dumps(document)) == document
    assert yaml.safe_load(yaml.safe_dump(document)) == document


def test_the_saved_schema_is_not_changed():
    """Saving reads the schema only: statistics and checks stay as they were."""
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-02-01"]), "x": [1.0, 2.0]})
    schema = infer_schema(frame)
    before = _describe_schema(schema)
    stats = _check_summary(schema)
    schema_to_dict(schema)
    assert _describe_schema(schema) == before
    assert _check_summary(schema) == stats


# --- what pandera's own io loses, kept -----------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_metadata_options_and_odd_checks_survive(suffix):
    """Metadata, severities, titles, check options, renamed and grouped checks."""
    schema = pa.DataFrameSchema(
        {
            "amount": pa.Column(
                float,
                [
                    pa.Check.gt(0, name="positive", error="must be positive"),
                    pa.Check.in_range(0, 100, include_max=False, raise_warning=True),
                    mlkit_integral(ignore_na=False, n_failure_cases=3),
                    pa.Check.le(50, groupby="plan", groups=["free"]),
                ],
                nullable=True,
                title="Amount",
                description="in EUR",
                metadata={"mlkit": {"severity": {"in_range": "warning", "*": "error"}}},
                default=1.5,
            ),
            "plan": pa.Column(
                pa.Category(categories=["free", "pro"], ordered=True),
                metadata={"owner": "billing", "tags": ["a", "b"]},
                unique=True,
                report_duplicates="exclude_first",
                required=False,
            ),
            "t": pa.Column(
                "datetime64[ns, UTC]",
                pa.Check.ge(pd.Timestamp("2024-01-01 00:00:00.123456789", tz="UTC")),
                required=False,
                on_missing="warn",
            ),
        },
        checks=[mlkit_not_in_future(5, name="recent", n_failure_cases=2)],
        index=pa.Index(str, name="id", metadata={"k": 1}, unique=True),
        strict="filter",
        ordered=True,
        unique=["amount", "plan"],
        report_duplicates="exclude_last",
        name="payments",
        title="Payments",
        description="one row per payment",
        metadata={"mlkit": {"severity": "warning"}, "version": 3},
        on_missing_columns="warn",
    )
    loaded = _round_trip(schema, suffix)
    assert _describe_schema(loaded) == _describe_schema(schema)
    assert loaded.columns["amount"].metadata == schema.columns["amount"].metadata
    assert loaded.metadata == schema.metadata
    assert loaded.index.metadata == {"k": 1}
    assert severity_of(loaded, "amount", "in_range") == "warning"
    assert loaded.columns["plan"].dtype == schema.columns["plan"].dtype
    assert loaded.columns["amount"].checks[0].error == "must be positive"
    assert loaded.columns["amount"].checks[3].groups == ["free"]
    exact = loaded.columns["t"].checks[0].statistics["min_value"]
    assert exact == pd.Timestamp("2024-01-01 00:00:00.123456789", tz="UTC")


def test_frame_level_registered_checks_survive():
    """Checks of the whole frame are written with the same care as column checks."""
    schema = pa.DataFrameSchema(
        {"a": pa.Column(float)}, checks=[pa.Check.mlkit_finite(), pa.Check.ge(0)]
    )
    loaded = schema_from_dict(schema_to_dict(schema))
    assert [c.name for c in loaded.checks] == ["mlkit_finite", "greater_than_or_equal_to"]
    bad = pd.DataFrame({"a": [np.inf, -1.0]})
    assert failure_table(loaded, bad) == failure_table(schema, bad) != []


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_string_columns_are_saved_without_their_storage(storage):
    """A schema inferred where pyarrow is installed must load where it is not."""
    frame = pd.DataFrame(
        {"s": ["a", "b"]}, index=pd.Index(["u1", "u2"], name="user"), dtype=pd.StringDtype()
    )
    schema = pa.DataFrameSchema(
        {"s": pa.Column(pd.StringDtype(storage))}, index=pa.Index(pd.StringDtype(storage))
    )
    document = schema_to_dict(schema)
    text = json.dumps(document)
    assert "string[" not in text
    loaded = schema_from_dict(document)
    local = f"string[{pd.StringDtype().storage}]"
    assert (str(loaded.columns["s"].dtype), str(loaded.index.dtype)) == (local, local)
    assert failure_table(loaded, frame) == []


def test_pandas_3_str_columns_still_validate_after_loading():
    """pandera writes a "str" column's dtype as string[python]; it still accepts "str"."""
    frame = pd.DataFrame(
        {
            "s": pd.Series(["a", None, "b"], dtype="str"),
            "o": pd.Series(["x", "y", "z"], dtype=object),
            "n": pd.Series([1, None, 3], dtype="Int64"),
            "c": pd.Categorical(["u", "v", "u"]),
            "tz": pd.to_datetime(["2024-03-31 00:30", "2024-03-31 03:30", "2024-10-27 02:30"])
            .tz_localize("UTC")
            .tz_convert("Europe/Paris"),
            "b": pd.Series([True, None, False], dtype="boolean"),
        }
    )
    schema = infer_schema(frame)
    for suffix in (".json", ".yaml"):
        loaded = _round_trip(schema, suffix)
        assert str(loaded.columns["s"].dtype) == f"string[{pd.StringDtype().storage}]"
        assert failure_table(loaded, frame) == []
        assert str(loaded.columns["tz"].checks[0].statistics["min_value"].tz) == "Europe/Paris"


def test_datetime_bounds_keep_sub_second_precision():
    """pandera's own io writes whole seconds; mlkit keeps the exact bound."""
    bound = pd.Timestamp("2024-01-01 12:00:00.75")
    schema = pa.DataFrameSchema({"t": pa.Column("datetime64[ns]", pa.Check.le(bound))})
    late = pd.DataFrame({"t": [pd.Timestamp("2024-01-01 12:00:00.9")]})
    assert failure_table(schema_from_dict(schema_to_dict(schema)), late) != []
    truncated = pandas_io.from_json(pandas_io.to_json(schema))
    assert truncated.columns["t"].checks[0].statistics["max_value"] != bound


def test_a_document_names_its_format_and_keeps_panderas_part_readable():
    """The header is small; pandera reads the 'pandera' part on its own."""
    schema = pa.DataFrameSchema({"x": pa.Column(int, pa.Check.in_range(0, 9))})
    document = schema_to_dict(schema)
    assert (document["format"], document["version"]) == (FORMAT, FORMAT_VERSION)
    plain = pandas_io.deserialize_schema(document["pandera"])
    assert plain.columns["x"].checks == schema.columns["x"].checks


def test_a_file_written_by_pandera_loads(tmp_path):
    """pandera's own flat YAML (and its datetime/duration encoding) is read as well."""
    schema = pa.DataFrameSchema(
        {
            "x": pa.Column(float, [pa.Check.ge(0), pa.Check.in_range(0, 5)]),
            "t": pa.Column("datetime64[ns]", pa.Check.le(pd.Timestamp("2020-01-01 10:00"))),
            "d": pa.Column("timedelta64[ns]", pa.Check.ge(pd.Timedelta(seconds=1))),
        }
    )
    path = tmp_path / "pandera.yaml"
    path.write_text(pandas_io.to_yaml(schema))
    loaded = load_schema(path)
    assert _describe_schema(loaded) == _describe_schema(schema)


# --- refused at save time, nothing written -----------------------------------------------


def _not_saved(schema: pa.DataFrameSchema, tmp_path: Path, match: str) -> None:
    path = tmp_path / "schema.json"
    with pytest.raises(DataError, match=match):
        save_schema(schema, path)
    assert list(tmp_path.iterdir()) == []


def test_a_lambda_check_fails_at_save_time_naming_column_and_check(tmp_path):
    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check(lambda s: s > 0))})
    _not_saved(schema, tmp_path, r"column 'age' has check '<lambda>'")


def test_an_unregistered_function_fails_even_with_a_builtin_name(tmp_path):
    """A plain function called in_range is not pandera's in_range."""

    def in_range(series: pd.Series) -> pd.Series:
        return series > 0

    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check(in_range))})
    _not_saved(schema, tmp_path, r"column 'age' has check 'in_range', which is neither")


def test_a_frame_level_lambda_fails_at_save_time(tmp_path):
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int)}, checks=pa.Check(lambda df: df["a"] > 0, name="a_positive")
    )
    _not_saved(schema, tmp_path, r"the frame has check 'a_positive'")


def test_an_index_lambda_fails_at_save_time(tmp_path):
    schema = pa.DataFrameSchema(
        {"a": pa.Column(int)}, index=pa.Index(int, pa.Check(lambda s: s >= 0), name="i")
    )
    _not_saved(schema, tmp_path, r"index level 0 \('i'\) has check '<lambda>'")


def test_a_grouping_function_fails_at_save_time(tmp_path):
    check = pa.Check.ge(0, groupby=lambda df: df.groupby("g"))
    schema = pa.DataFrameSchema({"a": pa.Column(int, check), "g": pa.Column(str)})
    _not_saved(schema, tmp_path, r"column 'a' has check 'greater_than_or_equal_to' grouped by")


def test_parsers_fail_at_save_time(tmp_path):
    schema = pa.DataFrameSchema({"a": pa.Column(int, parsers=pa.Parser(lambda s: s.abs()))})
    _not_saved(schema, tmp_path, r"column 'a' has parsers")


def test_a_statistic_without_json_form_fails_at_save_time(tmp_path):
    schema = pa.DataFrameSchema({"a": pa.Column(object, pa.Check.isin([object()]))})
    _not_saved(schema, tmp_path, r"column 'a' has check 'isin' whose statistic 'allowed_values'")


def test_metadata_without_json_form_fails_at_save_time(tmp_path):
    schema = pa.DataFrameSchema({"a": pa.Column(int, metadata={"owner": object()})})
    _not_saved(schema, tmp_path, r"the metadata of column 'a' holds <object")


def test_a_dtype_that_would_change_fails_at_save_time(tmp_path):
    """The read-back comparison catches what no explicit rule does."""
    schema = pa.DataFrameSchema({"a": pa.Column(int, metadata={"when": pd.Timestamp(0)})})
    _not_saved(schema, tmp_path, r"would not load back the same .*metadata")


def test_not_a_schema_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match=r"expected a pandera\.pandas\.DataFrameSchema"):
        save_schema({"a": int}, tmp_path / "s.json")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="got MultiIndex"):
        schema_to_dict(pa.MultiIndex([pa.Index(int), pa.Index(int)]))


# --- files ----------------------------------------------------------------------------------


def test_the_suffix_picks_the_format(tmp_path):
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))})
    json.loads(save_schema(schema, tmp_path / "s.JSON").read_text())
    assert yaml.safe_load(save_schema(schema, tmp_path / "s.yml").read_text())["format"] == FORMAT
    with pytest.raises(ConfigurationError, match=r"must end in .json, .yaml or .yml"):
        save_schema(schema, tmp_path / "s.toml")
    with pytest.raises(ConfigurationError, match=r"must end in .json, .yaml or .yml"):
        load_schema(tmp_path / "s.txt")


def test_writes_are_atomic(tmp_path, monkeypatch):
    """A failed write leaves the old file whole and no temporary file behind."""
    schema = pa.DataFrameSchema({"a": pa.Column(int, pa.Check.ge(0))})
    path = save_schema(schema, tmp_path / "s.json")
    path.chmod(0o640)
    before = path.read_text()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(io_module.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_schema(pa.DataFrameSchema({"b": pa.Column(int)}), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    monkeypatch.undo()
    save_schema(pa.DataFrameSchema({"b": pa.Column(int)}), path)
    assert "b" in load_schema(path).columns
    assert path.stat().st_mode & 0o777 == 0o640  # an overwrite keeps the file's mode


def test_yaml_without_pyyaml_names_the_extra(tmp_path, monkeypatch):
    schema = pa.DataFrameSchema({"a": pa.Column(int)})
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConfigurationError, match=r'pip install "mlkit\[yaml\]"'):
        save_schema(schema, tmp_path / "s.yaml")
    assert not (tmp_path / "s.yaml").exists()
    save_schema(schema, tmp_path / "s.json")  # JSON needs nothing


# --- refused at load time ---------------------------------------------------------------


def _document() -> dict:
    return schema_to_dict(pa.DataFrameSchema({"a": pa.Column(float, pa.Check.ge(0))}))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"version": 2}, r"format version 2 by a newer mlkit.*upgrade mlkit"),
        ({"version": 0}, r"unknown format version 0"),
        ({"version": "1"}, r"unknown format version '1'"),
        ({"format": "other"}, r"not an mlkit schema document"),
        ({"pandera": [1]}, r"'pandera' and 'mlkit' must be mappings"),
    ],
)
def test_a_bad_header_is_named(change, match):
    with pytest.raises(DataError, match=match):
        schema_from_dict({**_document(), **change})


def test_an_unregistered_check_is_named_with_its_column():
    document = _document()
    entry = document["pandera"]["columns"]["a"]["checks"][0]
    entry["options"]["check_name"] = "no_such_check"
    with pytest.raises(DataError, match=r"column 'a' has check 'no_such_check', which is not"):
        schema_from_dict(document)


def test_an_unknown_column_key_is_named():
    document = _document()
    document["pandera"]["columns"]["a"]["nulable"] = True
    with pytest.raises(DataError, match=r"column 'a' has 'nulable', which is neither"):
        schema_from_dict(document)


def test_a_bad_dtype_is_named_with_its_column():
    document = _document()
    document["pandera"]["columns"]["a"]["dtype"] = "no-such-dtype"
    with pytest.raises(DataError, match=r"column 'a' is invalid"):
        schema_from_dict(document)


def test_bad_statistics_are_named():
    document = _document()
    document["pandera"]["columns"]["a"]["checks"][0] = {
        "nonsense": 1,
        "options": {"check_name": "in_range"},
    }
    with pytest.raises(DataError, match=r"column 'a' has check 'in_range' with statistics"):
        schema_from_dict(document)


def test_not_a_mapping_is_refused():
    with pytest.raises(DataError, match="expected a mapping, got list"):
        schema_from_dict([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("suffix", "text"), [(".json", "{not json"), (".yaml", "a: [unclosed")])
def test_malformed_files_are_named(tmp_path, suffix, text):
    path = tmp_path / f"s{suffix}"
    path.write_text(text)
    with pytest.raises(DataError, match=f"is not valid {'JSON' if suffix == '.json' else 'YAML'}"):
        load_schema(path)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_schema(tmp_path / "absent.json")


def test_save_accepts_str_paths(tmp_path):
    path = save_schema(pa.DataFrameSchema({"a": pa.Column(int)}), os.fspath(tmp_path / "s.json"))
    assert isinstance(path, Path)
    assert path.exists()


def test_errors_carry_the_column_and_the_check_as_attributes():
    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check(lambda s: s > 0))})
    with pytest.raises(DataError) as info:
        schema_to_dict(schema)
    assert (info.value.column, info.value.value) == ("age", "<lambda>")


def test_loading_leaves_the_document_alone():
    """schema_from_dict copies what it edits, for mlkit and plain pandera documents."""
    schema = pa.DataFrameSchema({"x": pa.Column(int, [pa.Check.ge(0), pa.Check.le(9)])})
    for document in (schema_to_dict(schema), pandas_io.serialize_schema(schema)):
        before = copy.deepcopy(document)
        schema_from_dict(document)
        assert document == before


def test_a_multi_index_round_trips_with_level_metadata():
    schema = pa.DataFrameSchema(
        {"v": pa.Column(float)},
        index=pa.MultiIndex(
            [
                pa.Index(str, pa.Check.isin(["a", "b"]), name="k", metadata={"level": "outer"}),
                pa.Index(
                    "datetime64[ns]", pa.Check.ge(pd.Timestamp("2024-01-01 00:00:00.5")), name="t"
                ),
            ],
            strict=True,
            ordered=False,
        ),
    )
    loaded = schema_from_dict(schema_to_dict(schema))
    assert _describe_schema(loaded) == _describe_schema(schema)
    assert loaded.index.indexes[0].metadata == {"level": "outer"}
    frame = pd.DataFrame(
        {"v": [1.0, 2.0]},
        index=pd.MultiIndex.from_arrays(
            [
                ["a", "c"],
                pd.to_datetime(
                    ["2024-01-02 00:00:00", "2024-01-01 00:00:00.25"], format="ISO8601"
                ),
            ],
            names=["k", "t"],
        ),
    )
    assert failure_table(loaded, frame) == failure_table(schema, frame) != []
