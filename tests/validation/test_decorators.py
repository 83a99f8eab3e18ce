import asyncio
import inspect

import pandas as pd
import pandera.pandas as pa
import pytest

from mlkit.errors import ConfigurationError, DataError, SchemaError
from mlkit.validation import validate_input, validate_output

SCHEMA = pa.DataFrameSchema(
    {"x": pa.Column(float, [pa.Check.ge(0), pa.Check.le(100, raise_warning=True)])}
)
GOOD = pd.DataFrame({"x": [1.0, 2.0]})
BAD = pd.DataFrame({"x": [1.0, -2.0]})
NOISY = pd.DataFrame({"x": [1.0, 500.0]})  # only a warning


def test_validate_input_by_position_passes_good_frames_through_unchanged():
    seen = []

    @validate_input(SCHEMA)
    def step(frame, factor=1):
        seen.append(frame)
        return frame["x"].sum() * factor

    assert step(GOOD, 2) == 6.0
    assert seen[0] is GOOD
    assert step(NOISY) == 501.0  # warnings do not raise at the default "error"
    with pytest.raises(SchemaError, match=r"column 'x', greater_than_or_equal_to \[error\]"):
        step(BAD)


def test_validate_input_by_name_or_later_position_finds_keyword_calls():
    @validate_input(SCHEMA, arg="frame")
    def by_name(n, frame):
        return n

    @validate_input(SCHEMA, arg=1)
    def by_position(n, frame):
        return n

    for step in (by_name, by_position):
        assert step(1, GOOD) == 1
        assert step(1, frame=GOOD) == 1
        with pytest.raises(SchemaError):
            step(1, BAD)
        with pytest.raises(SchemaError):
            step(n=1, frame=BAD)


def test_keyword_only_parameter():
    @validate_input(SCHEMA, arg="frame")
    def step(*, frame):
        return len(frame)

    assert step(frame=GOOD) == 2
    with pytest.raises(SchemaError):
        step(frame=BAD)


def test_methods_count_positions_after_self():
    class Step:
        @validate_input(SCHEMA)
        def run(self, frame):
            return len(frame)

        @classmethod
        @validate_input(SCHEMA, arg="frame")
        def build(cls, frame):
            return cls

    assert Step().run(GOOD) == 2
    with pytest.raises(SchemaError):
        Step().run(BAD)
    assert Step.build(GOOD) is Step
    with pytest.raises(SchemaError):
        Step.build(BAD)


def test_the_threshold_decides_what_raises():
    @validate_input(SCHEMA, at="critical")
    def lenient(frame):
        return len(frame)

    @validate_input(SCHEMA, at="warning")
    def strict(frame):
        return len(frame)

    assert lenient(BAD) == 2
    with pytest.raises(SchemaError, match="less_than_or_equal_to"):
        strict(NOISY)


def test_async_functions_are_awaited_after_validation():
    calls = []

    @validate_input(SCHEMA)
    async def step(frame):
        calls.append(len(frame))
        return len(frame)

    assert inspect.iscoroutinefunction(step)
    assert asyncio.run(step(GOOD)) == 2
    with pytest.raises(SchemaError):
        asyncio.run(step(BAD))
    assert calls == [2]  # the bad call never ran the body


def test_validate_output_sync_and_async():
    @validate_output(SCHEMA)
    def make(values):
        return pd.DataFrame({"x": values})

    @validate_output(SCHEMA)
    async def make_later(values):
        return pd.DataFrame({"x": values})

    assert make([1.0]).shape == (1, 1)
    assert asyncio.run(make_later([1.0])).shape == (1, 1)
    with pytest.raises(SchemaError, match=r"-3.0 \(row 0\)"):
        make([-3.0])
    with pytest.raises(SchemaError):
        asyncio.run(make_later([-3.0]))


def test_a_result_that_is_not_a_frame_is_a_data_error():
    @validate_output(SCHEMA)
    def make():
        return [1.0]

    with pytest.raises(DataError, match="pandas DataFrame, got list"):
        make()


def test_wrapping_keeps_name_doc_and_signature():
    def step(frame: pd.DataFrame, n: int = 3) -> int:
        """Count things."""
        return n

    for decorated in (validate_input(SCHEMA)(step), validate_output(SCHEMA)(step)):
        assert decorated.__name__ == "step"
        assert decorated.__doc__ == "Count things."
        assert inspect.signature(decorated) == inspect.signature(step)
        assert decorated.__wrapped__ is step


def test_a_missing_frame_argument_is_left_to_python():
    @validate_input(SCHEMA)
    def step(frame):
        return frame

    with pytest.raises(TypeError, match="frame"):
        step()


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("df", r"has no parameter 'df' to validate; its parameters are \['frame', 'n', 'args'\]"),
        (2, "has no positional parameter number 2"),
        (-1, "has no positional parameter number -1"),
        (1.5, "arg must be a parameter position"),
        (True, "arg must be a parameter position"),
        ("args", r"cannot validate \*args"),
    ],
)
def test_bad_arg_is_a_configuration_error_at_decoration_time(arg, message):
    def step(frame, n, *args):
        return frame

    with pytest.raises(ConfigurationError, match=message):
        validate_input(SCHEMA, arg=arg)(step)


def test_a_non_schema_is_a_configuration_error_at_decoration_time():
    with pytest.raises(ConfigurationError, match="got dict"):
        validate_input({"x": float})
    with pytest.raises(ConfigurationError, match="got dict"):
        validate_output({"x": float})


def test_bad_threshold_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="at must be one of"):
        validate_input(SCHEMA, at="fatal")
    with pytest.raises(ConfigurationError, match="at must be one of"):
        validate_output(SCHEMA, at="severe")
