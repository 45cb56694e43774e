"""The queries of idempotent answers (a mixin of ``SqlUnit``): see
:mod:`patron.domain.promotions.idempotency`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select

from patron.domain.promotions.idempotency import StoredAnswer
from patron.store.promotions.tables import idempotent_answers, idempotent_profiles
from patron.store.unit_base import UnitBase


class IdempotencyQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.idempotency.IdempotencyUnit`."""

    def idempotent_answer(
        self, application_id: int, key: str, since: datetime
    ) -> StoredAnswer | None:
        query = select(idempotent_answers).where(
            idempotent_answers.c.application_id == application_id,
            idempotent_answers.c.key == key,
            idempotent_answers.c.created_at >= since,
        )
        row = self.connection.execute(query).mappings().first()
        if row is None:
            return None
        return StoredAnswer(row["request_hash"], row["status"], row["body"], row["created_at"])

    def keep_idempotent_answer(
        self,
        application_id: int,
        key: str,
        answer: StoredAnswer,
        expired_before: datetime,
        profile_ids: Sequence[str] = (),
    ) -> None:
        answers = idempotent_answers
        gone = select(answers.c.key).where(
            answers.c.application_id == application_id,
            (answers.c.key == key) | (answers.c.created_at < expired_before),
        )
        self.connection.execute(
            delete(idempotent_profiles).where(
                idempotent_profiles.c.application_id == application_id,
                idempotent_profiles.c.key.in_(gone),
            )
        )
        self.connection.execute(
            delete(answers).where(
                answers.c.application_id == application_id, answers.c.key.in_(gone)
            )
        )
        self.connection.execute(
            insert(answers).values(
                application_id=application_id,
                key=key,
                request_hash=answer.request_digest,
                status=answer.status,
                body=answer.body,
                created_at=answer.created_at,
            )
        )
        if profile_ids:
            self.connection.execute(
                insert(idempotent_profiles),
                [
                    {"application_id": application_id, "key": key, "integration_id": profile_id}
                    for profile_id in sorted(set(profile_ids))
                ],
            )

    def forget_idempotent_answer(self, application_id: int, key: str) -> None:
        for table in (idempotent_profiles, idempotent_answers):
            self.connection.execute(
                delete(table).where(table.c.application_id == application_id, table.c.key == key)
            )
