"""Matching people: new candidates' contacts are read from the pipeline in batches, and a
candidate whose email or phone (by keyed blind index) belongs to a known person joins them.

A round:

1. **claim** up to ``matching_batch`` profiles whose contacts were never read
   (``FOR UPDATE SKIP LOCKED``), with a lease (``contacts_claimed_until``) so other replicas
   take others and a matcher that dies is taken over; a short transaction, no lock is held
   while the pipeline answers;
2. **ask** the pipeline (``shared.directory.CandidateDirectory``) for the contacts of their
   candidates, in one call;
3. **store** each profile's name, email and phone encrypted, the blind indexes of the
   normalized email and phone, and its language (the profiles read and the live ones sharing
   an index with them locked together, in id order); then **merge**: when another live profile
   (not merged, not anonymized) has the same email index (or else the same phone index), the
   newer of the two is merged into the older (``ProfileMerge`` with ``matched_by`` email or
   phone), whichever of them was read first.

When the pipeline cannot answer, the claims are released and the matcher waits (from
``matching_idle_s``, doubling up to a minute) before trying again; readiness stays true, since
events are still taken in and the people are matched once the pipeline is back.

When it starts, the matcher also arms the daily engagement refresh (``profiles.timers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import cast

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto import Keyring
from shared.directory import CandidateContact, CandidateDirectory, DirectoryUnavailable
from shared.logging import get_logger
from shared.service import Runtime, Worker
from talentpool.profiles import service
from talentpool.profiles import timers as engagement_refresh
from talentpool.profiles.contacts import (
    EMAIL_CONTEXT,
    NAME_CONTEXT,
    PHONE_CONTEXT,
    email_index,
    phone_index,
    seal,
)
from talentpool.profiles.models import Profile
from talentpool.settings import TalentpoolSettings

log = get_logger(__name__)

LEASE_S = 120.0
MAX_BACKOFF_S = 60.0


class Matcher:
    name = "matcher"

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._settings = cast(TalentpoolSettings, runtime.settings)
        self._keyring: Keyring | None = None
        self._http: httpx.AsyncClient | None = None
        self._directory: CandidateDirectory | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._last_pass: float | None = None
        self.backoff_s = 0.0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._open()
        self._task = asyncio.create_task(self._run(), name="talentpool-matcher")

    def _open(self) -> None:
        if self._keyring is None:
            # Built when the matcher starts: building the app (for its OpenAPI document) needs
            # no keys.
            self._keyring = Keyring.from_settings(self._settings)
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
            self._directory = CandidateDirectory(self._settings, self._http)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
            self._directory = None

    @property
    def alive(self) -> bool:
        stale_after = max(10 * self._settings.matching_idle_s, 3 * MAX_BACKOFF_S)
        return (
            self._task is not None
            and not self._task.done()
            and self._last_pass is not None
            and time.monotonic() - self._last_pass < stale_after
        )

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            async with self._runtime.db.sessionmaker() as session, session.begin():
                await engagement_refresh.arm(session, self._runtime.clock.now())
        except Exception as error:  # the next start arms it; matching goes on meanwhile
            log.warning("matching.refresh_not_armed", error=type(error).__name__)
        while not self._stop.is_set():
            wait = self._settings.matching_idle_s
            try:
                matched = await self.run_once()
                self.backoff_s = 0.0
                if matched >= self._settings.matching_batch:
                    wait = 0.0  # a backlog: go on at once
            except DirectoryUnavailable as error:
                self.backoff_s = min(
                    MAX_BACKOFF_S, max(self._settings.matching_idle_s, 2 * self.backoff_s)
                )
                wait = self.backoff_s
                log.warning("matching.pipeline_unavailable", error=str(error), retry_in_s=wait)
            except Exception as error:
                wait = max(wait, 5.0)
                log.warning("matching.round_failed", error=type(error).__name__)
            self._last_pass = time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=wait)

    async def run_once(self) -> int:
        """One round; returns how many profiles it read. Raises ``DirectoryUnavailable`` when
        the pipeline cannot answer (the claims are released first)."""
        self._open()
        assert self._directory is not None
        claimed = await self._claim()
        if not claimed:
            return 0
        try:
            contacts = await self._directory.contacts(
                [candidate for members in claimed.values() for candidate in members]
            )
        except DirectoryUnavailable:
            await self._release(list(claimed))
            raise
        await self._store(claimed, contacts)
        return len(claimed)

    # -- claiming ------------------------------------------------------------------------

    async def _claim(self) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Profiles to read, each with its members (the profile's own candidate first)."""
        now = self._runtime.clock.now()
        due = (
            sa.select(Profile.id)
            .where(
                Profile.contacts_checked_at.is_(None),
                sa.or_(
                    Profile.contacts_claimed_until.is_(None),
                    Profile.contacts_claimed_until < now,
                ),
            )
            .order_by(Profile.created_at)
            .limit(self._settings.matching_batch)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        async with self._runtime.db.sessionmaker() as session, session.begin():
            ids = list(
                (
                    await session.scalars(
                        sa.update(Profile)
                        .where(Profile.id == due.c.id)
                        .values(contacts_claimed_until=now + timedelta(seconds=LEASE_S))
                        .returning(Profile.id)
                    )
                ).all()
            )
            if not ids:
                return {}
            members = await service.members_of(session, ids)
        return {
            profile_id: sorted(found, key=lambda c: (c != profile_id, str(c)))
            for profile_id, found in members.items()
        }

    async def _release(self, ids: list[uuid.UUID]) -> None:
        async with self._runtime.db.sessionmaker() as session, session.begin():
            await session.execute(
                sa.update(Profile)
                .where(Profile.id.in_(ids), Profile.contacts_checked_at.is_(None))
                .values(contacts_claimed_until=None)
            )

    # -- storing and merging -------------------------------------------------------------

    async def _store(
        self,
        claimed: dict[uuid.UUID, list[uuid.UUID]],
        contacts: dict[uuid.UUID, CandidateContact],
    ) -> None:
        keyring = self._keyring
        assert keyring is not None
        now = self._runtime.clock.now()
        # Each profile's contact: its own candidate's, else another member's.
        found = {
            profile_id: next((contacts[c] for c in members if c in contacts), None)
            for profile_id, members in claimed.items()
        }
        indexes = {
            profile_id: (email_index(keyring, c.email), phone_index(keyring, c.phone))
            for profile_id, c in found.items()
            if c is not None
        }
        emails = [e for e, _ in indexes.values() if e is not None]
        phones = [p for _, p in indexes.values() if p is not None]
        async with self._runtime.db.sessionmaker() as session, session.begin():
            # The live profiles these people may join, then all of them locked at once, in id
            # order like every other writer of profiles (so no two wait for each other).
            matches = (
                await session.scalars(
                    sa.select(Profile.id).where(
                        Profile.merged_into.is_(None),
                        Profile.anonymized_at.is_(None),
                        sa.or_(Profile.email_index.in_(emails), Profile.phone_index.in_(phones)),
                    )
                )
                if emails or phones
                else None
            )
            candidates = set(matches.all()) if matches is not None else set()
            locked = await service.lock_in_order(session, [*claimed, *candidates])
            fresh: list[Profile] = []
            for profile_id in claimed:
                profile = locked.get(profile_id)
                if profile is None:
                    continue
                profile.contacts_claimed_until = None
                if profile.contacts_checked_at is not None:
                    continue  # read by another matcher after our lease ran out
                profile.contacts_checked_at = now
                contact = found[profile_id]
                if contact is None or profile.anonymized_at is not None:
                    continue
                profile.full_name_ciphertext = seal(keyring, contact.full_name, NAME_CONTEXT)
                profile.email_ciphertext = seal(keyring, contact.email, EMAIL_CONTEXT)
                profile.phone_ciphertext = seal(keyring, contact.phone, PHONE_CONTEXT)
                profile.email_index, profile.phone_index = indexes[profile_id]
                profile.locale = contact.locale or profile.locale
                profile.updated_at = now
                if profile.merged_into is None:
                    fresh.append(profile)
            await session.flush()
            live = {
                p.id: p
                for p in locked.values()
                if p.merged_into is None
                and p.anonymized_at is None
                and (p.email_index is not None or p.phone_index is not None)
            }
            await self._merge_matches(session, fresh, live, keyring, now)

    async def _merge_matches(
        self,
        session: AsyncSession,
        fresh: Sequence[Profile],
        live: dict[uuid.UUID, Profile],
        keyring: Keyring,
        now: datetime,
    ) -> None:
        """Merge each profile just read with the one it matches, the newer into the older."""
        for profile in sorted(fresh, key=_age):
            if profile.id not in live:
                continue  # merged into another during this round
            match = best_match(profile, live.values())
            if match is None:
                continue
            other, matched_by = match
            older, newer = sorted((profile, other), key=_age)
            if await service.unmerged_before(session, older.id, newer.id):
                continue  # HR said they are two people
            await service.merge(
                session,
                into=older,
                source=newer,
                matched_by=matched_by,
                by=None,
                now=now,
                keyring=keyring,
            )
            del live[newer.id]
            log.info("matching.merged", matched_by=matched_by, into=str(older.id))


def _age(profile: Profile) -> tuple[datetime, str]:
    return (profile.created_at, str(profile.id))


def best_match(profile: Profile, live: Iterable[Profile]) -> tuple[Profile, str] | None:
    """The oldest other live profile with the same email index, or else the same phone
    index (email first: a shared phone is more often a family's or a recycled number)."""
    others = sorted((p for p in live if p.id != profile.id), key=_age)
    if profile.email_index is not None:
        for other in others:
            if other.email_index == profile.email_index:
                return other, "email"
    if profile.phone_index is not None:
        for other in others:
            if other.phone_index == profile.phone_index:
                return other, "phone"
    return None


def matcher(runtime: Runtime) -> Worker:
    return Matcher(runtime)
