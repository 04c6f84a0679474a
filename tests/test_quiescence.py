"""The mail settle waits only while something could still send: census of threads,
child processes, SMTP sessions and adapter calls, and a sender outside the process."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from pytest_stexcel_privacy.contract.checked import CheckedAdapter
from pytest_stexcel_privacy.observe import quiescence
from pytest_stexcel_privacy.observe.mail_sink import MailSink
from toy_adapter import ToyAdapter

LONG_QUIET = 30.0  # a settle that waits this long would time the test out, not pass it


@pytest.fixture(autouse=True)
def no_other_children(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other tests in this worker may leave a child process running: here only the test's
    own count (the child-process test counts them for real)."""
    if request.node.name != "test_a_child_process_means_more_may_come":
        monkeypatch.setattr(quiescence, "_child_processes", lambda: "")


@pytest.fixture
def sink() -> Iterator[MailSink]:
    started = MailSink().start()
    yield started
    started.stop()


def send(sink: MailSink, subject: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message.set_content("hello")
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.send_message(message, "shop@example.com", ["a@example.com"])


def wait_until_no_session(sink: MailSink) -> None:
    """The client has closed; the server notes it a moment later, on its own thread."""
    for _ in range(500):
        if sink.why_more_may_come() != "an SMTP session is open":
            return
        time.sleep(0.01)


def test_mail_sent_before_returning_needs_no_wait(sink: MailSink) -> None:
    mark = sink.mark()
    send(sink, "order confirmed")
    got = sink.settle(mark, quiet=LONG_QUIET)
    assert [m.subject for m in got] == ["order confirmed"]
    assert sink.last_wait_reason == ""


def test_an_open_smtp_session_means_more_may_come(sink: MailSink) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.ehlo()
        assert sink.why_more_may_come() == "an SMTP session is open"


def test_a_thread_still_running_is_waited_for(sink: MailSink) -> None:
    mark = sink.mark()
    go = threading.Event()

    def late_sender() -> None:
        go.wait(10)
        send(sink, "sent from a queue")

    worker = threading.Thread(target=late_sender, name="module-mail-queue")
    worker.start()
    assert sink.why_more_may_come(wait=0.1) == "thread 'module-mail-queue' is running"
    go.set()
    got = sink.settle(mark, quiet=2.0)
    worker.join()
    assert [m.subject for m in got] == ["sent from a queue"]


def test_a_finishing_thread_gets_the_wait_to_end(sink: MailSink) -> None:
    worker = threading.Thread(target=time.sleep, args=(0.05,), name="finishing")
    worker.start()
    assert sink.why_more_may_come(wait=LONG_QUIET) == ""
    assert not worker.is_alive()


def test_a_child_process_means_more_may_come(sink: MailSink) -> None:
    before = quiescence._child_processes()  # another test's child may still be running
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert sink.why_more_may_come(wait=5) == "a child process is alive"
    finally:
        child.kill()
        child.wait()
    assert quiescence._child_processes() == before


def test_an_adapter_call_in_progress_means_more_may_come(sink: MailSink, tmp_path: Path) -> None:
    entered, leave = threading.Event(), threading.Event()

    class Blocking(ToyAdapter):
        def send_marketing(self) -> None:
            entered.set()
            leave.wait(10)

    checked = CheckedAdapter(Blocking(tmp_path))
    caller = threading.Thread(target=checked.call, args=("send_marketing",), name="caller")
    caller.start()
    entered.wait(10)
    try:
        assert sink.why_more_may_come(wait=5) == "an adapter call is running"
    finally:
        leave.set()
        caller.join()


def test_a_sender_outside_the_process_turns_the_shortcut_off(sink: MailSink) -> None:
    sink.settle(sink.mark(), quiet=LONG_QUIET)
    mark = sink.mark()
    assert sink.last_wait_reason == ""
    script = (
        "import smtplib, sys\n"
        "from email.message import EmailMessage\n"
        "m = EmailMessage(); m['Subject'] = 'from a worker elsewhere'; m.set_content('x')\n"
        "with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=5) as c:\n"
        "    c.send_message(m, 'shop@example.com', ['a@example.com'])\n"
    )
    subprocess.run([sys.executable, "-c", script, sink.host, str(sink.port)], check=True)
    wait_until_no_session(sink)
    got = sink.settle(mark, quiet=0.05)
    assert [m.subject for m in got] == ["from a worker elsewhere"]
    assert sink.last_wait_reason == (
        "a message once arrived when nothing in this process could send it"
    )
