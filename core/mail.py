"""Email backends that write messages the way people read them.

The console backend (``make run``) and the file backend write each message
raw. Django serialises with the ``email`` package's default policy, which
keeps lines under 78 characters: a body with a longer line (every link to
confirm an address or reset a password) goes out as quoted-printable, its
link cut by ``=`` line ends, and the first half copied from the terminal is a
404. These backends serialise with RFC 5322's own line limit (998) and UTF-8
headers instead, so bodies stay plain UTF-8 text (7bit/8bit) with whole links
and a Spanish subject reads as written.

SMTP keeps Django's standard encoding: mail programs decode it, so links are
whole for whoever reads the message there.
"""

import email.policy

from django.core.mail.backends import console, filebased

READABLE = email.policy.default.clone(max_line_length=998, utf8=True)


def readable_bytes(message) -> bytes:
    """``message`` (a Django EmailMessage) as bytes with whole lines."""
    return message.message(policy=READABLE).as_bytes()


class ConsoleEmailBackend(console.EmailBackend):
    def write_message(self, message):
        self.stream.write(readable_bytes(message).decode("utf-8", "replace") + "\n")
        self.stream.write("-" * 79 + "\n")


class FileEmailBackend(filebased.EmailBackend):
    def write_message(self, message):
        self.stream.write(readable_bytes(message) + b"\n")
        self.stream.write(b"-" * 79 + b"\n")
