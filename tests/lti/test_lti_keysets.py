"""What launches naming unknown keys may cost the tool and the platform (:mod:`api.lti.keysets`), on
the key-set cache alone: a platform key set served by a transport that counts its fetches (and can
hold one until the test lets it go), and a clock the test moves."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from lti1p3platform.registration import Registration

from api.lti import keysets
from api.lti.keysets import BadSignature, KeySets

from factories import within
from lti_platform import public_pem, rsa_pem

URL = "https://lms.example.edu/jwks"
KEY = rsa_pem()


@functools.cache
def kid(key: str) -> str:
    found = Registration.get_jwk(public_pem(key))["kid"]
    assert isinstance(found, str)
    return found


@dataclass
class Platform:
    """The key set's server: the keys it publishes, how often it was asked, and a gate that holds
    each fetch while it is closed (``up=False``: the platform does not answer)."""

    keys: list[str] = field(default_factory=lambda: [KEY])
    fetches: int = 0
    up: bool = True
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        self.arrived.set()
        assert self.gate.wait(timeout=30)
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"keys": [Registration.get_jwk(public_pem(k)) for k in self.keys]})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Noticed:
    """A fetch under way, which tells the :class:`Counted` sets when a launch starts waiting for it."""

    def __init__(self, sets: Counted, fetching: threading.Event) -> None:
        self.sets, self.fetching = sets, fetching

    def wait(self, timeout: float | None = None) -> bool:
        with self.sets.waiters:
            self.sets.waiting += 1
            self.sets.waiters.notify_all()
        return self.fetching.wait(timeout)


class Counted(KeySets):
    """Key sets that count the launches waiting (with their place taken) for a fetch under way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiters = threading.Condition()
        self.waiting = 0

    def _wait(self, fetching: threading.Event) -> None:
        super()._wait(Noticed(self, fetching))  # type: ignore[arg-type]  # waited on like the event


@pytest.fixture
def platform() -> Iterator[Platform]:
    found = Platform()
    yield found
    found.gate.set()  # nothing stays held if a test failed midway


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sets(platform: Platform, clock: Clock) -> Counted:
    client = httpx.Client(transport=httpx.MockTransport(platform.handle))
    return Counted(lambda: client, clock=clock)


@functools.cache
def _private(key: str) -> Any:
    """The key loaded once (loading checks it: tens of milliseconds, hundreds of tokens a test)."""
    return serialization.load_pem_private_key(key.encode(), password=None)


def token(key: str = KEY, key_id: str | None = None) -> str:
    return jwt.encode({"sub": "s"}, _private(key), algorithm="RS256", headers={"kid": key_id or kid(key)})


def refused(sets: KeySets, id_token: str) -> BadSignature:
    with pytest.raises(BadSignature) as refusal:
        sets.verify(id_token, URL)
    return refusal.value


def test_a_known_key_is_fetched_once_per_ttl(sets: Counted, platform: Platform, clock: Clock) -> None:
    for _ in range(20):
        assert sets.verify(token(), URL) == {"sub": "s"}
    assert platform.fetches == 1
    clock.now += keysets.TTL
    assert sets.verify(token(), URL) == {"sub": "s"} and platform.fetches == 2


def test_one_unknown_kid_is_fetched_for_once_per_interval(sets: Counted, platform: Platform, clock: Clock) -> None:
    sets.verify(token(), URL)
    stranger = rsa_pem()
    for _ in range(50):
        assert refused(sets, token(stranger)).check == "kid"
    assert platform.fetches == 2  # the first fetch, and one for the unknown kid
    clock.now += keysets.UNKNOWN_KID_TTL
    refused(sets, token(stranger))
    assert platform.fetches == 3


def test_many_unknown_kids_fetch_at_most_refetches_per_window(sets: Counted, platform: Platform, clock: Clock) -> None:
    sets.verify(token(), URL)
    for number in range(50):
        assert refused(sets, token(key_id=f"made-up-{number}")).check == "kid"
    assert platform.fetches == 1 + keysets.REFETCHES
    assert sets.verify(token(), URL) == {"sub": "s"}  # the platform's own key still works meanwhile
    clock.now += keysets.REFETCH_WINDOW
    refused(sets, token(key_id="made-up-after-the-window"))
    assert platform.fetches == 2 + keysets.REFETCHES


def test_a_rotated_key_is_fetched_for_at_once(sets: Counted, platform: Platform) -> None:
    sets.verify(token(), URL)
    rotated = rsa_pem()
    platform.keys.append(rotated)
    assert sets.verify(token(rotated), URL) == {"sub": "s"} and platform.fetches == 2


def test_a_failed_fetch_stands_for_a_while(sets: Counted, platform: Platform, clock: Clock) -> None:
    platform.up = False
    first = refused(sets, token())
    assert first.check == "jwks" and "ConnectError" in first.detail
    for _ in range(20):
        assert refused(sets, token()).detail == first.detail
    assert platform.fetches == 1
    platform.up = True
    clock.now += keysets.FAILURE_TTL
    assert sets.verify(token(), URL) == {"sub": "s"} and platform.fetches == 2


def test_launches_at_once_share_one_fetch(sets: Counted, platform: Platform) -> None:
    """Eight launches with unknown kids while the key set is slow: one fetch, and every launch
    answered by it."""
    platform.gate.clear()
    answers: list[str] = []

    def launch(number: int) -> None:
        answers.append(refused(sets, token(key_id=f"unknown-{number}")).check)

    threads = [threading.Thread(target=launch, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    assert platform.arrived.wait(timeout=30)
    with sets.waiters:
        assert sets.waiters.wait_for(lambda: sets.waiting == 7, timeout=30)
    platform.gate.set()
    for thread in threads:
        within(30, thread.join)
    assert answers == ["kid"] * 8 and platform.fetches == 1


def test_a_known_kid_goes_on_with_the_old_set_while_it_is_fetched_again(
    sets: Counted, platform: Platform, clock: Clock
) -> None:
    sets.verify(token(), URL)
    clock.now += keysets.TTL  # stale: the next launch fetches it again
    platform.gate.clear()
    fetching = threading.Thread(target=sets.verify, args=(token(), URL))
    fetching.start()
    assert platform.arrived.wait(timeout=30)
    assert within(5, lambda: sets.verify(token(), URL)) == {"sub": "s"}  # not held by the fetch
    platform.gate.set()
    within(30, fetching.join)
    assert platform.fetches == 2


def test_past_the_waiting_bound_a_launch_is_told_to_try_again(sets: Counted, platform: Platform) -> None:
    platform.gate.clear()
    answers: list[BadSignature] = []
    threads = [
        threading.Thread(target=lambda n=n: answers.append(refused(sets, token(key_id=f"k{n}"))))
        for n in range(keysets.WAITING)
    ]
    for thread in threads:
        thread.start()
    with sets.waiters:
        assert sets.waiters.wait_for(lambda: sets.waiting == keysets.WAITING - 1, timeout=30)
    busy = within(5, lambda: refused(sets, token(key_id="one-too-many")))
    assert (busy.status, busy.check) == (503, "jwks")
    platform.gate.set()
    for thread in threads:
        within(30, thread.join)
    assert [a.check for a in answers] == ["kid"] * keysets.WAITING and platform.fetches == 1


def test_the_cache_is_bounded(sets: Counted, platform: Platform, clock: Clock) -> None:
    for number in range(keysets.MAX_SETS + 40):
        sets.verify(token(), f"https://lms-{number}.example.edu/jwks")
    assert len(sets._sets) == keysets.MAX_SETS
    sets.verify(token(), URL)
    for number in range(keysets.MAX_UNKNOWN_KIDS + 40):
        clock.now += keysets.REFETCH_WINDOW / keysets.REFETCHES  # each one fetched for
        refused(sets, token(key_id=f"never-{number}"))
    assert platform.fetches == keysets.MAX_SETS + 41 + keysets.MAX_UNKNOWN_KIDS + 40
    assert len(sets._sets[URL].unknown) == keysets.MAX_UNKNOWN_KIDS


def test_a_huge_kid_is_refused_unread(sets: Counted, platform: Platform) -> None:
    assert refused(sets, token(key_id="k" * 5000)).check == "kid" and platform.fetches == 0
