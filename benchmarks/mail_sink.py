"""The mail sink's own costs, each against its former way, in the same run.

    python benchmarks/mail_sink.py [--messages 2000] [--repeat 3]

Reading: the example's marketing messages (``MailRelay.compose``, to
``--messages`` customers) parsed as a check reads them (``parse_content``),
with ``policy.default`` as before and with the sink's policy, which parses
each distinct header once (a fresh memo each round, so the first message
pays in full). Receiving: the same messages sent over one SMTP connection,
with aiosmtpd's parse of each ``MAIL``/``RCPT`` argument remembered and with
the memo bypassed, as before. Prints the best time per message of each and
their ratio; exits non-zero if the two ways read or received any message
differently.
"""

from __future__ import annotations

import argparse
import smtplib
import sys
import time
from collections.abc import Callable
from email import policy
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

from pytest_stexcel_privacy.observe import mail_sink
from pytest_stexcel_privacy.observe.mail_sink import MailSink

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "jewelry_erp"))
from jewelry_erp.mail import MailRelay

T = TypeVar("T")
BODY = "Dear Ann,\n\nHoliday collection.\n\nYour jewelers\n"


class _Forgetful(dict[Any, Any]):
    """A memo that never remembers: aiosmtpd parses every argument, as before."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default


def best(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    fastest = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


def reading(raws: list[bytes], reading_policy: Any) -> list[object]:
    mail_sink.READING_POLICY = reading_policy
    return [mail_sink.parse_content(raw) for raw in raws]


def fresh_sink_policy() -> Any:
    """The sink's reading policy with nothing remembered yet."""
    return policy.default.clone(header_factory=mail_sink._HeadersParsedOnce())


def receiving(sink: MailSink, messages: list[Message]) -> list[tuple[str, ...]]:
    mark = sink.mark()
    with smtplib.SMTP(*sink.address, local_hostname="bench.example", timeout=30) as client:
        for message in messages:
            client.send_message(message)
    return [m.recipients for m in sink.settle(mark)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    relay = MailRelay(None, b"benchmark")
    messages = [
        relay.compose(i % 50, f"customer{i % 50}@example.com", "Holiday", BODY, "marketing")
        for i in range(args.messages)
    ]
    raws = [message.as_bytes() for message in messages]
    sinks_policy, sinks_addresses = mail_sink.READING_POLICY, mail_sink._PARSED_ADDRESSES
    sink = MailSink().start()
    try:
        read_before, read_stdlib = best(args.repeat, lambda: reading(raws, policy.default))
        read_after, read_sinks = best(args.repeat, lambda: reading(raws, fresh_sink_policy()))
        mail_sink._PARSED_ADDRESSES = _Forgetful()
        sent_before, got_before = best(args.repeat, lambda: receiving(sink, messages))
        mail_sink._PARSED_ADDRESSES = {}
        sent_after, got_after = best(args.repeat, lambda: receiving(sink, messages))
    finally:
        sink.stop()
        mail_sink.READING_POLICY, mail_sink._PARSED_ADDRESSES = sinks_policy, sinks_addresses
    per = 1000 / args.messages
    print(f"{args.messages} marketing messages to 50 customers, best of {args.repeat}")
    print(
        f"  reading: policy.default {read_before * per:.3f} ms a message, the sink's "
        f"{read_after * per:.3f} ms ({read_before / read_after:.2f}x faster)"
    )
    print(
        f"  receiving over SMTP: every argument parsed {sent_before * per:.3f} ms a message, "
        f"remembered {sent_after * per:.3f} ms ({sent_before / sent_after:.2f}x faster)"
    )
    if read_stdlib != read_sinks or got_before != got_after or len(got_after) != len(messages):
        print("the two ways read or received the messages differently", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
