"""lab/board.py's process handling: `make board-stop` stops only a board it recorded."""

import subprocess
import sys
import time
from pathlib import Path

from lab.board import port_is_free, stop_recorded


def test_stop_recorded_leaves_a_process_that_is_no_board_alone(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        cmdline = Path(f"/proc/{other.pid}/cmdline")
        deadline = time.monotonic() + 10
        while b"sleep" not in cmdline.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_file = tmp_path / "board.pid"
        pid_file.write_text(f"{other.pid}\n")
        assert stop_recorded(pid_file) is None
        assert other.poll() is None  # still running: not a board, not ours to stop
        assert not pid_file.exists()
        assert stop_recorded(pid_file) is None  # no file: nothing to do
    finally:
        other.kill()
        other.wait()


def test_stop_recorded_stops_a_board_process(tmp_path: Path) -> None:
    # A stand-in whose command line reads like `python -m services.cli board`.
    board = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "services.cli", "board"]
    )
    try:
        cmdline = Path(f"/proc/{board.pid}/cmdline")
        deadline = time.monotonic() + 10
        while b"board" not in cmdline.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the child has exec'd its own command line
        pid_file = tmp_path / "board.pid"
        pid_file.write_text(f"{board.pid}\n")
        assert stop_recorded(pid_file) == board.pid
        assert board.wait(timeout=10) != 0
    finally:
        board.kill()
        board.wait()


def test_port_is_free_sees_a_bound_port() -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        assert not port_is_free("127.0.0.1", held.getsockname()[1])
