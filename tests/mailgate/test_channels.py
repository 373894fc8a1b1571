"""The ways mail comes in: an MTA pipe (``ingest_email`` on standard input), a Maildir, and
the IMAP poll; plus the text helpers they share."""

import io
import mailbox
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident
from mailgate import imap
from mailgate.models import InboundMessage
from mailgate.text import html_to_text, strip_reply

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


class Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def run_stdin(monkeypatch, data: bytes) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", Stdin(data))
    out = io.StringIO()
    try:
        call_command("ingest_email", stdout=out, stderr=io.StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_an_mta_pipe_hands_one_message_on_standard_input(db, rita, monkeypatch):
    code, out = run_stdin(monkeypatch, corpus("new_plain.eml"))
    assert code == 0
    incident = Incident.objects.get()
    assert out.strip() == f"opened (new) {incident.number}"


def test_empty_input_is_a_data_error(db, monkeypatch):
    assert run_stdin(monkeypatch, b"  \n")[0] == 65


def test_a_database_that_does_not_answer_asks_the_mta_to_try_again(db, rita, monkeypatch):
    from django.db import OperationalError

    import mailgate.management.commands.ingest_email as command

    def down(raw, *, source):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(command, "ingest", down)
    assert run_stdin(monkeypatch, corpus("new_plain.eml"))[0] == 75


def test_every_message_of_a_maildir_is_ingested_once(db, rita, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in ("new_plain.eml", "html_only_base64.eml", "mailing_list.eml", "new_plain.eml"):
        box.add(corpus(name))
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_email", maildir=str(tmp_path / "Maildir"), stdout=out, stderr=err)
    assert out.getvalue().strip() == "4 message(s): 1 duplicate, 1 ignored, 2 opened"
    assert "ingest" in err.getvalue()  # the progress bar
    assert Incident.objects.count() == 2
    call_command("ingest_email", maildir=str(tmp_path / "Maildir"), stdout=io.StringIO(),
                 no_progress=True)  # fmt: skip
    assert Incident.objects.count() == 2  # read again: nothing new


def test_a_folder_that_is_not_a_maildir_is_refused(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("ingest_email", maildir=str(tmp_path / "nowhere"), stdout=io.StringIO())


# --- IMAP


class FakeIMAP:
    """What the poll asks of ``imaplib.IMAP4``: a folder of messages with their flags."""

    def __init__(self, messages: dict[bytes, bytes]):
        self.messages = messages
        self.seen: set[bytes] = set()
        self.logged_in = self.logged_out = False
        self.folder = None

    def login(self, user, password):
        self.logged_in = (user, password)

    def select(self, folder):
        self.folder = folder
        return "OK", [b"2"]

    def uid(self, command, *args):
        if command == "SEARCH":
            unseen = [uid for uid in self.messages if uid not in self.seen]
            return "OK", [b" ".join(unseen)]
        if command == "FETCH":
            uid = args[0]
            return "OK", [(uid + b" (UID " + uid + b" BODY[] {1}", self.messages[uid]), b")"]
        if command == "STORE":
            self.seen.add(args[0])
            return "OK", []
        raise AssertionError(command)

    def logout(self):
        self.logged_out = True


def test_the_imap_url_names_the_server_the_account_and_the_folder():
    box = imap.mailbox("imaps://desk%40example.com:s3cr%2Ft@imap.example.com/Service%20Desk")
    assert (box.host, box.port, box.secure) == ("imap.example.com", 993, True)
    assert (box.user, box.password, box.folder) == ("desk@example.com", "s3cr/t", "Service Desk")
    plain = imap.mailbox("imap://u:p@localhost?starttls=1")
    assert (plain.port, plain.secure, plain.starttls, plain.folder) == (143, False, True, "INBOX")


def test_the_poll_ingests_unread_mail_and_marks_it_read(db, rita, monkeypatch, settings):
    from mailgate.tasks import poll_imap

    server = FakeIMAP({b"1": corpus("new_plain.eml"), b"2": corpus("auto_reply.eml")})
    monkeypatch.setattr(imap, "connect", lambda box: server)
    settings.IMAP_URL = "imaps://desk:pw@imap.example.com/INBOX"
    assert poll_imap() == 2
    assert server.seen == {b"1", b"2"} and server.logged_out
    assert server.logged_in == ("desk", "pw")
    assert Incident.objects.count() == 1
    assert poll_imap() == 0  # nothing unread


def test_a_message_left_unread_by_a_crash_is_ingested_once(db, rita, monkeypatch):
    server = FakeIMAP({b"7": corpus("new_plain.eml")})
    monkeypatch.setattr(imap, "connect", lambda box: server)
    original = server.uid

    def dies_before_flagging(command, *args):
        if command == "STORE":
            raise ConnectionResetError("connection lost")
        return original(command, *args)

    server.uid = dies_before_flagging
    with pytest.raises(ConnectionResetError):
        imap.poll("imaps://u:p@h/INBOX")
    server.uid = original
    assert imap.poll("imaps://u:p@h/INBOX") == 1  # fetched again, known: only flagged now
    assert Incident.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_without_an_imap_url_the_poll_does_nothing(db, settings):
    from mailgate.tasks import poll_imap

    settings.IMAP_URL = ""
    assert poll_imap() == 0


def test_beat_polls_only_when_an_imap_url_is_set():
    from django.conf import settings

    assert ("poll-imap" in settings.CELERY_BEAT_SCHEDULE) == bool(settings.IMAP_URL)


# --- Text


def test_html_becomes_text_with_links_lists_and_images_written_out():
    html = (
        "<p>Hello&nbsp;team,</p><p>See <a href='https://x.example/a?b=1&amp;c=2'>the log</a>"
        " and <a href='mailto:ops@example.com'>ops@example.com</a>.</p>"
        "<ol><li>first</li><li>second</li></ol><img src='cid:shot.png@1'>"
        "<table><tr><td>a</td><td>b</td></tr></table>"
    )
    assert html_to_text(html) == (
        "Hello team,\n\nSee the log (https://x.example/a?b=1&c=2) and ops@example.com.\n\n"
        "1. first\n2. second\n[image: shot.png]\na b"
    )


def test_html_keeps_no_script_style_comment_or_javascript_link():
    html = (
        "<!--[if mso]><xml>x</xml><![endif]--><style>p{}</style><script>alert(1)</script>"
        "<p onclick='evil()'>Text <a href='javascript:alert(1)'>link</a></p>"
    )
    assert html_to_text(html) == "Text link"


def test_an_encoded_tag_stays_text_and_is_not_decoded_twice():
    assert html_to_text("<p>&amp;lt;script&amp;gt; and &lt;b&gt;</p>") == "&lt;script&gt; and <b>"


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks!\n\nOn Mon, 1 Dec 2026 at 10:00, Desk <d@x> wrote:\n> old",
        "Thanks!\n\nOn Mon, 1 Dec 2026 at 10:00, Service Desk\n<desk@example.com> wrote:\n> old",
        "Thanks!\n\nLe lun. 1 déc. 2026 à 10:00, Desk <d@x> a écrit :\n> old",
        "Thanks!\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\n\nold",
        "Thanks!\n\nFrom: Desk <d@x>\nSent: Monday, December 1, 2026 10:00\nTo: Rita\n\nold",
        "Thanks!\n\nDe : Desk <d@x>\nEnvoyé : lundi 1 décembre 2026 10:00\nÀ : Rita\n\nold",
        "Thanks!\n________________________________\nFrom: Desk\nold",
        "Thanks!\n\n-- \nRita\nFinance",
        "Thanks!\n\nSent from my iPhone",
        "##- Please type your reply above this line -##\nThanks!",
        "Thanks!\n##- Please type your reply above this line -##\nold",
    ],
)
def test_a_reply_is_cut_to_what_its_author_wrote(reply):
    expected = "" if reply.startswith("##-") else "Thanks!"
    assert strip_reply(reply) == expected


def test_answers_between_quoted_lines_are_kept():
    reply = "> Which printer?\nThe one on floor 3.\n> Since when?\nThis morning."
    assert strip_reply(reply) == "The one on floor 3.\nThis morning."


def test_a_sentence_that_merely_starts_with_on_is_kept():
    assert strip_reply("On Monday it broke again.\nPlease help.") == (
        "On Monday it broke again.\nPlease help."
    )
