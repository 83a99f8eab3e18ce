import io

import pytest

from mlkit._progress import Progress


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_pipe_output_writes_one_line_per_tenth():
    out = io.StringIO()
    with Progress(1000, "rows", stream=out) as bar:
        for _ in range(1000):
            bar.update()
    lines = out.getvalue().splitlines()
    # The first unit shows the step started, then each tenth once.
    assert len(lines) == 11
    assert lines[0].endswith("1/1000 (0%)")
    assert lines[1].endswith("100/1000 (10%)")
    assert lines[-1] == "rows [" + "#" * 30 + "] 1000/1000 (100%)"


def test_terminal_output_redraws_in_place_and_ends_the_line():
    out = Tty()
    with Progress(3, "serving", unit="requests", stream=out, interval=0.0) as bar:
        bar.update(2)
        bar.update()
    text = out.getvalue()
    assert text.count("\r") == 3  # two redraws and the closing line
    assert text.endswith("\n")
    assert "3/3 requests (100%) in " in text


def test_unknown_total_counts_without_a_bar():
    out = Tty()
    bar = Progress(None, "reading", unit="rows", stream=out, interval=0.0)
    bar.update(5)
    assert out.getvalue() == "\rreading 5 rows"


def test_disabled_writes_nothing_but_still_counts():
    out = Tty()
    with Progress(10, "x", stream=out, enabled=False) as bar:
        bar.update(4)
    assert out.getvalue() == ""
    assert bar.done == 4


@pytest.mark.parametrize("done", [0, 5, 10, 15])
def test_share_is_capped_at_100_percent(done):
    out = io.StringIO()
    bar = Progress(10, "x", stream=out)
    bar.update(done)
    if done:
        assert out.getvalue().splitlines()[-1].endswith(f"{done}/10 ({min(done, 10) * 10}%)")
