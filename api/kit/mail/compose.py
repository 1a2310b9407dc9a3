"""The mails the service sends, each in plain text and HTML (the same words in both)."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape

from api.kit.mail.address import check_address, one_line, sender_address


def sign_in_mail(
    *,
    sender: str,
    to: str,
    name: str,
    url: str,
    expires_at: datetime,
    course_title: str | None,
    invitation: bool,
) -> EmailMessage:
    """A sign-in link (``invitation``: on joining a course) for ``name`` at ``to``; an
    :class:`~api.kit.mail.address.AddressError` if ``to`` or ``sender`` is not an address mail can be
    sent to. Names and titles are made one line first: a header with a line break in it could add
    headers."""
    recipient = Address(display_name=one_line(name), addr_spec=check_address(to))
    sender_as = sender_address(sender)
    name, course_title = recipient.display_name, one_line(course_title) if course_title else None
    expires = expires_at.strftime("%A %d %B %Y, %H:%M UTC")
    if invitation and course_title:
        subject = f"You have been added to {course_title}"
        opening = f"You have been added to the course {course_title} on grader."
    else:
        subject = f"Your sign-in link for {course_title}" if course_title else "Your sign-in link"
        opening = (
            "Here is the sign-in link you asked for."
            if course_title is None
            else f"Here is your sign-in link for {course_title}."
        )
    lines = [
        f"Hello {name},",
        "",
        opening,
        "Open this link to sign in (it works once, until " + expires + "):",
        "",
        url,
        "",
        "If you did not expect this mail, you can ignore it: nobody can sign in without the link.",
    ]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender_as
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_as.domain)
    message["Auto-Submitted"] = "auto-generated"  # (RFC 3834: no vacation replies to it)
    message.set_content("\n".join(lines) + "\n")
    link = escape(url, quote=True)
    html = (
        "<!doctype html><html><body>"
        f"<p>Hello {escape(name)},</p>"
        f"<p>{escape(opening)}<br>Open this link to sign in (it works once, until {escape(expires)}):</p>"
        f'<p><a href="{link}">{link}</a></p>'
        "<p>If you did not expect this mail, you can ignore it: nobody can sign in without the link.</p>"
        "</body></html>"
    )
    message.add_alternative(html, subtype="html")
    return message
