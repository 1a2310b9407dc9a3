"""What the staff's forms take besides the session and the role (:mod:`api.pages.kit.roles`): the
posted form once its CSRF token is checked, and the text of a file or a text area."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from api.pages.kit.deps import CsrfChecked


async def posted_form(request: Request, _page: CsrfChecked) -> FormData:
    """The form, once its CSRF token matched (parsed once: the check read it already)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def uploaded_text(form: FormData, *, file_field: str, text_field: str) -> tuple[str, str | None]:
    """The text of the file chosen in ``file_field`` if one was, else of the text area; and why it
    cannot be read (not UTF-8), if so. A file input left empty sends a part with no content."""
    upload = form.get(file_field)
    if isinstance(upload, UploadFile):
        content = upload.file.read()
        if content:
            try:
                return content.decode("utf-8"), None
            except UnicodeDecodeError:
                return "", f"The file {upload.filename or ''} is not UTF-8 text: save it as UTF-8 and choose it again."
    text = form.get(text_field)
    return (text if isinstance(text, str) else "").replace("\r\n", "\n"), None
