"""The example's mail: its ``Message`` composition against ``EmailMessage``, in the same run.

    python benchmarks/example_mail.py [--messages 2000] [--repeat 3]

Composes ``--messages`` marketing messages both ways (``EmailMessage`` with
``set_content``, as the example did before; the example's ``MailRelay.compose``
now) and sends each batch over one SMTP connection to the suite's mail sink,
then reads every message's headers there, as a check does. Prints the best
time per message of each and their ratio, and exits non-zero if the sink saw
different recipients, categories or unsubscribe headers for the two.
"""

from __future__ import annotations

import argparse
import smtplib
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage, Message
from pathlib import Path

from pytest_stexcel_privacy.observe.mail_sink import MailSink

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "jewelry_erp"))
from jewelry_erp.mail import SHOP_ADDRESS, MailRelay

BODY = "Dear Ann,\n\nHoliday collection.\n\nYour jewelers\n"


def as_email_message(relay: MailRelay, customer: int, to: str) -> Message:
    """The example's composition before: every header parsed as it is set."""
    message = EmailMessage()
    message["From"] = SHOP_ADDRESS
    message["To"] = to
    message["Subject"] = "Holiday collection"
    message["X-Mail-Category"] = "marketing"
    url = relay.unsubscribe_url(customer)
    message["List-Unsubscribe"] = f"<{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(f"{BODY}\nNo longer interested? Unsubscribe: {url}\n")
    return message


def as_relay_message(relay: MailRelay, customer: int, to: str) -> Message:
    message = relay.compose(customer, to, "Holiday collection", BODY, "marketing")
    del message["List-Unsubscribe"]  # the mailto target too: keep the two comparable
    message["List-Unsubscribe"] = f"<{relay.unsubscribe_url(customer)}>"
    return message


def run(
    sink: MailSink, count: int, compose: Callable[[MailRelay, int, str], Message]
) -> tuple[float, list[tuple[object, ...]]]:
    relay = MailRelay(sink.address, b"benchmark")
    mark = sink.mark()
    started = time.perf_counter()
    messages = [compose(relay, i, f"customer{i}@example.com") for i in range(count)]
    with smtplib.SMTP(*sink.address, local_hostname="bench.example", timeout=30) as client:
        for message in messages:
            client.send_message(message)
    received = sink.settle(mark)
    seen = [
        (m.recipients, m.header("x-mail-category"), m.list_unsubscribe, "Unsubscribe" in m.text)
        for m in received
    ]
    return time.perf_counter() - started, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sink = MailSink().start()
    try:
        before = after = float("inf")
        for _ in range(args.repeat):  # alternating, so both meet the same machine
            took, seen_before = run(sink, args.messages, as_email_message)
            before = min(before, took)
            took, seen_after = run(sink, args.messages, as_relay_message)
            after = min(after, took)
    finally:
        sink.stop()
    per = 1000 / args.messages
    print(f"{args.messages} marketing messages, one SMTP connection, best of {args.repeat}")
    print(f"  EmailMessage (before): {before * per:.3f} ms a message")
    print(f"  Message (the example): {after * per:.3f} ms a message ({before / after:.2f}x faster)")
    if seen_before != seen_after or len(seen_after) != args.messages:
        print("the sink saw different messages the two ways", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
