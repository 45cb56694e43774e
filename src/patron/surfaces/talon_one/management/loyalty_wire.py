"""Talon's loyalty shapes in the Management API: programs, ledgers, transactions."""

from __future__ import annotations

from typing import Any

from patron.domain.promotions.loyalty import Balance, Program
from patron.domain.promotions.loyalty_service import LedgerEntry
from patron.surfaces.talon_one import wire


def program_json(program: Program, account: int) -> dict[str, Any]:
    """Talon's ``LoyaltyProgram`` (every field some SDK requires, and the optional
    ones Patron has a value for)."""
    return {
        "id": program.id,
        "created": wire.moment(program.created_at),
        "title": program.title,
        "description": program.description,
        "subscribedApplications": list(program.subscribed_applications),
        "defaultValidity": program.default_validity,
        "defaultPending": program.default_pending,
        "allowSubledger": program.allow_subledger,
        "sandbox": False,
        "accountID": account,
        "name": program.name,
        "timezone": program.timezone,
        "cardBased": False,
        "tiers": [],
        # A rolled-back addition takes all its points back, down to a negative balance.
        "returnPolicy": "unlimited",
    }


def sub_ledger_json(balance: Balance, entries: list[LedgerEntry]) -> dict[str, Any]:
    return {
        "total": wire.number(balance.current),
        "totalActivePoints": wire.number(balance.current),
        "totalPendingPoints": wire.number(balance.pending),
        "totalSpentPoints": wire.number(balance.spent),
        "totalExpiredPoints": wire.number(balance.expired),
        "totalNegativePoints": wire.number(balance.negative),
        "transactions": [entry_json(entry) for entry in entries],
    }


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    document: dict[str, Any] = {
        "created": wire.moment(entry.created),
        "programID": entry.program_id,
        "customerProfileID": entry.integration_id,
        "type": entry.type,
        "amount": wire.number(entry.amount),
        "name": entry.name,
        "subLedgerID": entry.subledger_id,
    }
    optional = {
        "startDate": wire.moment(entry.start),
        "expiryDate": wire.moment(entry.expiry),
        "customerSessionID": entry.session_id,
    }
    document.update({key: value for key, value in optional.items() if value is not None})
    return document


def entries_of(entries: list[LedgerEntry], subledger: str) -> list[LedgerEntry]:
    return [entry for entry in entries if entry.subledger_id == subledger]
