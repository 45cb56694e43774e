from datetime import UTC, datetime

from patron.domain.people.profiles import Profile

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)


def profile(**fields: object) -> Profile:
    return Profile(
        id="cust_1", workspace_id="ws", external_id="u", created_at=T0, updated_at=T0, **fields
    )


def test_reserved_traits_become_standard_fields_and_the_rest_attributes() -> None:
    p = profile()
    changed = p.apply_traits(
        {"email": "a@b.c", "birthday": "1990-01-02", "plan": "pro", "address": {"city": "Oslo"}},
        now=T1,
    )
    assert changed
    assert (p.email, p.birthdate, p.address) == ("a@b.c", "1990-01-02", {"city": "Oslo"})
    assert p.attributes == {"plan": "pro"}
    assert p.updated_at == T1
    assert p.traits() == {
        "email": "a@b.c",
        "birthday": "1990-01-02",
        "plan": "pro",
        "address": {"city": "Oslo"},
    }


def test_null_never_erases_and_unchanged_traits_change_nothing() -> None:
    p = profile(email="a@b.c", attributes={"plan": "pro"})
    assert not p.apply_traits({"email": None, "plan": "pro"}, now=T1)
    assert p.email == "a@b.c"
    assert p.updated_at == T0


def test_name_is_composed_from_first_and_last_name() -> None:
    p = profile()
    p.apply_traits({"firstName": "Ada", "lastName": "Lovelace"}, now=T1)
    assert p.name == "Ada Lovelace"
    assert p.attributes == {"firstName": "Ada", "lastName": "Lovelace"}


def test_absorbing_keeps_the_survivors_values_and_fills_gaps() -> None:
    survivor = profile(email="keep@x", attributes={"plan": "pro"})
    merged = profile(email="lose@x", phone="123", attributes={"plan": "free", "ref": "ad"})
    merged.created_at = datetime(2025, 1, 1, tzinfo=UTC)
    survivor.absorb(merged, now=T1)
    assert (survivor.email, survivor.phone) == ("keep@x", "123")
    assert survivor.attributes == {"plan": "pro", "ref": "ad"}
    assert survivor.created_at == merged.created_at
