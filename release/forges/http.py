"""The forges' one HTTP exchange: send a request, repeat it a bounded number of times
when the answer is lost or a 5xx and the request may be repeated, and turn any other
failure into the forge's own :class:`~release.forges.ForgeError`.

A POST or an upload is never repeated here (``retry=False``): it may have taken effect
before its answer was lost, so its caller reads the state back and decides.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import NamedTuple, TypeVar

from release.forges import ForgeError

RETRIES = 3  # repeats of a request that may be repeated
BACKOFF_SECONDS = 0.5
T = TypeVar("T")


class Answer(NamedTuple):
    status: int
    headers: Message
    body: bytes


def exchange(
    request: Callable[[], urllib.request.Request],
    *,
    retry: bool,
    timeout: float,
    refused: Callable[[int, bytes, Message], ForgeError],
    unreachable: Callable[[str], ForgeError],
    opener: urllib.request.OpenerDirector | None = None,
) -> Answer:
    """The answer to ``request()`` (made anew for each attempt); ``refused(status, body,
    headers)`` is the error for an answer that is not a success, ``unreachable(reason)`` the
    one for no answer at all."""
    send = opener.open if opener is not None else urllib.request.urlopen
    retries = RETRIES if retry else 0
    for attempt in range(retries + 1):
        try:
            with send(request(), timeout=timeout) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                payload = exc.read()
            if exc.code >= 500 and attempt < retries:
                time.sleep(BACKOFF_SECONDS * 2**attempt)
                continue
            raise refused(exc.code, payload, exc.headers) from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt < retries:
                time.sleep(BACKOFF_SECONDS * 2**attempt)
                continue
            raise unreachable(str(getattr(exc, "reason", exc))) from None
    raise AssertionError("unreachable")


def made_or_found(
    make: Callable[[], T],
    find: Callable[[], T | None],
    *,
    exists: int,
    attempts: int = RETRIES + 1,
    unfound: Callable[[ForgeError], ForgeError | None] = lambda _exc: None,
) -> T:
    """What ``make()`` makes (a release, a change request). When its answer was lost, or the
    forge answers ``exists`` (it is there already), what ``find()`` finds: a create is sent
    again (``attempts`` in all) only after reading that nothing was made. ``unfound(error)``
    may give the error to raise when nothing is found after all."""
    for attempt in range(attempts):
        try:
            return make()
        except ForgeError as exc:
            if not (exc.uncertain or exc.status == exists):
                raise
            found = find()
            if found is not None:
                return found
            error = unfound(exc)
            if error is not None:
                raise error from None
            if attempt == attempts - 1:
                raise
            time.sleep(BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")
