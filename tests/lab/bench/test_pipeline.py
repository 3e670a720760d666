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


def test_listening_pid_finds_the_process_listening_on_a_port() -> None:
    import os
    import socket

    from lab.bench.measure import listening_pid

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        assert listening_pid(port) is None  # bound, not yet listening
        listener.listen()
        assert listening_pid(port) == os.getpid()


def test_broker_line_weights_the_bursts_by_their_articles() -> None:
    from lab.bench.pipeline import broker_line

    figures = {
        "bursts": [
            {"articles": 100, "cpu_ms": {"broker": 4.0}, "broker_net_ms": 2.0,
             "requests": {"Produce": 10.0, "Fetch": 20.0}},
            {"articles": 300, "cpu_ms": {"broker": 8.0}, "broker_net_ms": 6.0,
             "requests": {"Produce": 6.0, "Fetch": 4.0}},
        ],
        "topic_kb_per_article": {"stories": 3.0, "articles.raw": 10.5},
    }
    assert broker_line(figures) == (
        "bench: broker_ms=7.00 broker_net_ms=5.00 kib=13.5 produce=7.00 fetch=8.00"
    )
