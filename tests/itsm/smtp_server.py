"""A real SMTP server in the test process (aiosmtpd), scripted to misbehave.

Each mail transaction (``MAIL FROM``) takes the next step of ``script``; when the script is
used up the server accepts everything:

- ``"ok"``: accept;
- ``"temporary"``: ``451`` after the data (the mail server is busy: try again later);
- ``"permanent"``: ``554`` after the data (this message is refused for good);
- ``"drop"``: close the connection at ``MAIL FROM`` (nothing was taken);
- ``"stall"``: say nothing at ``MAIL FROM`` for ``stall_seconds`` (the client times out;
  nothing was taken);
- ``"stall_after_data"``: take the message, then say nothing: the client cannot know that
  the server has it.

``refuse`` maps a recipient address to the reply its ``RCPT TO`` gets (``"550 5.1.1 No such
user"``). ``received`` holds every message the server took, parsed.
"""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ScriptedHandler:
    def __init__(self):
        self.script: list[str] = []
        self.refuse: dict[str, str] = {}
        self.received = []
        self.transactions = 0
        self.stall_seconds = 3.0
        self.on_data = None  # called (in a thread) with each message taken
        self._lock = threading.Lock()

    def _step(self) -> str:
        with self._lock:
            self.transactions += 1
            return self.script.pop(0) if self.script else "ok"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        step = self._step()
        envelope.step = step
        if step == "drop":
            server.transport.close()
            return "421 closing"
        if step == "stall":
            await asyncio.sleep(self.stall_seconds)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        step = getattr(envelope, "step", "ok")
        if step == "temporary":
            return "451 4.3.0 Mail server busy, try again later"
        if step == "permanent":
            return "554 5.6.0 Message refused"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(message)
        if self.on_data is not None:
            done = threading.Thread(target=self.on_data, args=(message,))
            done.start()
            done.join()
        if step == "stall_after_data":
            await asyncio.sleep(self.stall_seconds)
        return "250 OK: queued"

    def ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.received]


class SMTPServer:
    def __init__(self):
        self.handler = ScriptedHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def settings(self, settings, *, timeout: float = 1.0) -> None:
        """Point Django's SMTP backend at this server."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = timeout
