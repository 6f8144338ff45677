"""A real SMTP server on loopback for the notification tests (aiosmtpd), and what it received."""

from __future__ import annotations


class Inbox:
    """aiosmtpd's handler: every message received, as (recipients, text)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"
