"""SSH and FTP password guessing: at the threshold, just under it, and long (successful) logins."""

from __future__ import annotations

from ids_desktop.core.detect.guessing import SERVICES, SHORT_S
from ids_desktop.synth.attack_captures import (
    ATTACKER,
    TARGET,
    write_ftp_guessing,
    write_ssh_guessing,
)
from tests.core.detect import only

SSH_GUESSES = SERVICES["SSH"][2]
FTP_GUESSES = SERVICES["FTP"][2]


def test_many_short_ssh_sessions_are_guessing(detect) -> None:
    found = only(detect(write_ssh_guessing, attempts=SSH_GUESSES), "ssh_guessing")
    assert found.family == "brute_force"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,) and found.ports == (22,)
    assert len(found.rows) == SSH_GUESSES
    assert found.summary.startswith(f"{ATTACKER} tried {SSH_GUESSES} SSH logins on {TARGET} in ")
    assert found.summary.endswith(f"; {SSH_GUESSES} closed within 2 s")


def test_one_ssh_session_fewer_is_no_guessing(detect) -> None:
    assert detect(write_ssh_guessing, attempts=SSH_GUESSES - 1) == ()


def test_a_busy_client_whose_ssh_logins_last_is_no_guessing(detect) -> None:
    # a session every 10 s, each open well past SHORT_S: logins that worked
    assert detect(write_ssh_guessing, attempts=SSH_GUESSES + 10, session_s=SHORT_S + 10,
                  every_s=10) == ()


def test_many_refused_ftp_logins_are_guessing(detect) -> None:
    found = only(detect(write_ftp_guessing, attempts=FTP_GUESSES), "ftp_guessing")
    assert found.family == "brute_force"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,) and found.ports == (21,)
    assert len(found.rows) == FTP_GUESSES
    assert found.summary.startswith(f"{ATTACKER} tried {FTP_GUESSES} FTP logins on {TARGET} in ")
    assert found.summary.endswith(f"; {FTP_GUESSES} closed within 2 s")


def test_one_ftp_session_fewer_is_no_guessing(detect) -> None:
    assert detect(write_ftp_guessing, attempts=FTP_GUESSES - 1) == ()
