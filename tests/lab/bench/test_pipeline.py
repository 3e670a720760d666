"""The benchmark's summary line, the one a script greps."""

import re

from lab.bench.pipeline import summary_line


def test_summary_line_format() -> None:
    line = summary_line(e2e=88.04, bare=101.2, p99_ms=734.4, rss_mb=612.7)
    assert line == "bench: e2e=88.0 bare=101.2 ratio=0.87 p99_ms=734 rss_mb=613"
    pattern = r"bench: e2e=[\d.]+ bare=[\d.]+ ratio=[\d.]+ p99_ms=\d+ rss_mb=\d+"
    assert re.fullmatch(pattern, line)


def test_summary_line_with_no_bare_figure_does_not_divide_by_zero() -> None:
    assert "ratio=0.00" in summary_line(e2e=5.0, bare=0.0, p99_ms=1.0, rss_mb=1.0)
