"""IIN vectors, and every kind of bad nominee input refused on its field with nothing saved."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.errors import ValidationFailed
from award_service.extensions import db
from award_service.nominations import iin, service
from award_service.nominations.models import Nominee

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import MEDAL_CODE, actor, make_iin, nomination_count, nominee_data

W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def weighted(head: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(head, weights)) % 11


def with_check_digit(head: str) -> str:
    digit = iin.check_digit(head)
    assert digit is not None, head
    return head + str(digit)


def heads(prefix: str):
    """Every 11-digit head with this 7-digit prefix (YYMMDD + century digit)."""
    for serial in range(10_000):
        yield f"{prefix}{serial:04d}"


# ------------------------------------------------------------ the algorithm


def test_hand_checked_vector():
    # 8·1 + 6·2 + 0·3 + 9·4 + 0·5 + 4·6 + 3·7 + 5·8 + 0·9 + 5·10 + 0·11 = 191; 191 mod 11 = 4
    assert weighted("86090435050", W1) == 4
    assert iin.check_digit("86090435050") == 4
    assert iin.parse("860904350504") == "860904350504"
    assert iin.birth_date_of("860904350504") == date(1986, 9, 4)


@pytest.mark.parametrize(
    "birth, female, century_digit",
    [
        (date(1925, 5, 9), False, "3"),
        (date(1931, 12, 31), True, "4"),
        (date(1888, 2, 29), False, "1"),
        (date(1889, 7, 1), True, "2"),
        (date(2001, 1, 1), False, "5"),
        (date(2004, 2, 29), True, "6"),
        (date(1928, 2, 29), False, "3"),
    ],
)
def test_made_iins_are_valid_and_carry_the_birth_date(birth, female, century_digit):
    made = [iin.make(birth, serial, female) for serial in range(1, 200)]
    valid = [value for value in made if value is not None]
    assert len(valid) > 150  # only about one head in 121 has no check digit
    for value in valid:
        assert len(value) == 12 and value.isdigit()
        assert value[:6] == f"{birth:%y%m%d}" and value[6] == century_digit
        assert iin.parse(value) == value
        assert iin.birth_date_of(value) == birth
        assert int(value[11]) == iin.check_digit(value[:11])


def test_every_wrong_check_digit_is_refused():
    for digit in "0123456789":
        value = "86090435050" + digit
        if digit == "4":
            assert iin.parse(value) == value
            continue
        with pytest.raises(iin.IINError) as exc:
            iin.parse(value)
        assert exc.value.code == "checksum"


@pytest.mark.parametrize(
    "value, code",
    [
        ("", "length"),
        ("86090435050", "length"),
        ("8609043505041", "length"),
        ("0" * 20, "length"),
        ("86090435050A", "digits"),
        ("8609O4350504", "digits"),
        ("86090435050-", "digits"),
        ("８６０９０４３５０５０４", "digits"),  # full-width digits: not ASCII
        ("٨٦٠٩٠٤٣٥٠٥٠٤", "digits"),  # Arabic-Indic digits
    ],
)
def test_length_and_characters(value, code):
    with pytest.raises(iin.IINError) as exc:
        iin.parse(value)
    assert exc.value.code == code


def test_spaces_are_removed_before_checking():
    assert iin.parse(" 860904 350504 ") == "860904350504"
    assert iin.parse("8609\u00a00435\u00a00504") == "860904350504"
    with pytest.raises(iin.IINError) as exc:
        iin.parse("860904 35050")
    assert exc.value.code == "length"


@pytest.mark.parametrize("century", "0789")
def test_century_digit_outside_1_to_6(century):
    value = next(with_check_digit(h) for h in heads(f"280102{century}") if iin.check_digit(h) is not None)
    with pytest.raises(iin.IINError) as exc:
        iin.parse(value)
    assert exc.value.code == "century"


@pytest.mark.parametrize(
    "yymmdd, century",
    [
        ("281302", "3"),  # month 13
        ("280002", "3"),  # month 0
        ("280230", "3"),  # 30 February
        ("000229", "3"),  # 1900 was not a leap year
        ("280100", "4"),  # day 0
        ("280132", "4"),  # 32 January
    ],
)
def test_impossible_birth_date_in_the_iin(yymmdd, century):
    value = next(with_check_digit(h) for h in heads(yymmdd + century) if iin.check_digit(h) is not None)
    with pytest.raises(iin.IINError) as exc:
        iin.parse(value)
    assert exc.value.code == "date"


def test_second_weights_when_the_first_sum_gives_10():
    head = next(h for h in heads("2801023") if weighted(h, W1) == 10 and weighted(h, W2) != 10)
    expected = weighted(head, W2)
    assert iin.check_digit(head) == expected
    value = head + str(expected)
    assert iin.parse(value) == value
    # the first weighting's "10" is never a digit: every other last digit is refused
    for digit in "0123456789":
        if digit != str(expected):
            with pytest.raises(iin.IINError):
                iin.parse(head + digit)
    assert iin.make(date(1928, 1, 2), int(head[7:])) == value


def test_both_weightings_give_10_so_no_number_is_valid():
    head = next(h for h in heads("2801023") if weighted(h, W1) == 10 and weighted(h, W2) == 10)
    assert iin.check_digit(head) is None
    for digit in "0123456789":
        with pytest.raises(iin.IINError) as exc:
            iin.parse(head + digit)
        assert exc.value.code == "checksum"
    assert iin.make(date(1928, 1, 2), int(head[7:])) is None


def test_birth_date_of_needs_a_known_century():
    with pytest.raises(iin.IINError) as exc:
        iin.birth_date_of("280102012345")
    assert exc.value.code == "century"


# ------------------------------------------------- bad input, through the API


def _post(client, headers, overrides=None, **body):
    payload = {"nominee": nominee_data(**(overrides or {})), "medal": MEDAL_CODE, "grounds": "Тыл еңбеккері"}
    payload.update(body)
    return client.post("/api/v1/nominations", json=payload, headers=headers)


def _nothing_saved():
    assert nomination_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Nominee)) == 0
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "nomination"))
        == 0
    )


def _head_with_check(prefix: str) -> str:
    return next(with_check_digit(h) for h in heads(prefix) if iin.check_digit(h) is not None)


BAD_NOMINEES = [
    # (nominee overrides, field, words in the English message)
    ({"iin": "860904350505", "birth_date": "1986-09-04"}, "nominee.iin", "check digit"),
    ({"iin": "86090435050", "birth_date": "1986-09-04"}, "nominee.iin", "12 digits"),
    ({"iin": "8609043505041", "birth_date": "1986-09-04"}, "nominee.iin", "12 digits"),
    ({"iin": "86090435050A", "birth_date": "1986-09-04"}, "nominee.iin", "digits only"),
    ({"iin": ["860904350504"], "birth_date": "1986-09-04"}, "nominee.iin", "digits only"),
    ({"iin": _head_with_check("2801027"), "birth_date": "1928-01-02"}, "nominee.iin", "7th digit"),
    ({"iin": _head_with_check("2801020"), "birth_date": "1928-01-02"}, "nominee.iin", "7th digit"),
    ({"iin": _head_with_check("2813023"), "birth_date": "1928-01-02"}, "nominee.iin", "not a date"),
    ({"iin": "860904350504", "birth_date": "1986-09-05"}, "nominee.iin", "born on 04.09.1986"),
    ({"iin": make_iin(date(1928, 1, 2)), "birth_date": "2028-01-02"}, "nominee.birth_date", "future"),
    ({"iin": None, "birth_date": (date.today() + timedelta(days=400)).isoformat()}, "nominee.birth_date", "future"),
    ({"iin": None, "birth_date": "1927-02-30"}, "nominee.birth_date", "date such as"),
    ({"iin": None, "birth_date": "1927-13-01"}, "nominee.birth_date", "date such as"),
    ({"iin": None, "birth_date": "14 March 1927"}, "nominee.birth_date", "date such as"),
    ({"iin": None, "birth_date": 1927}, "nominee.birth_date", "date such as"),
    ({"iin": None, "birth_date": "1850-01-01"}, "nominee.birth_date", "too early"),
    ({"iin": None, "birth_date": None}, "nominee.birth_date", "required"),
    ({"category": "hero"}, "nominee.category", "Unknown category"),
    ({"category": ""}, "nominee.category", "Choose a category"),
    ({"category": ["front_veteran"]}, "nominee.category", "category"),
    ({"district": "almaty"}, "nominee.district", "Unknown district"),
    ({"district": None}, "nominee.district", "Choose a district"),
    ({"surname": "  "}, "nominee.surname", "required"),
    ({"surname": "12345"}, "nominee.surname", "letters"),
    ({"given_name": "Қайрат\x00"}, "nominee.given_name", "not allowed"),
    ({"surname": "Ә" * 101}, "nominee.surname", "at most 100"),
    ({"phone": "12"}, "nominee.phone", "phone number"),
]


@pytest.mark.parametrize(
    "overrides, field, words", BAD_NOMINEES, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_NOMINEES)]
)
def test_bad_nominee_is_refused_on_its_field_and_nothing_is_saved(en_client, token_for, cast, overrides, field, words):
    response = _post(en_client, token_for(cast.nominator), overrides)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error["fields"]
    assert words.lower() in error["fields"][field].lower(), error["fields"][field]
    _nothing_saved()


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"medal": "victory90"}, "medal", "Unknown medal"),
        ({"medal": ""}, "medal", "Choose a medal"),
        ({"medal": 7}, "medal", "medal"),
        ({"grounds": ""}, "grounds", "required"),
        ({"nominee": "Әбенов Қайрат"}, "nominee", "nominee"),
    ],
)
def test_unknown_medal_and_missing_parts(en_client, token_for, cast, body, field, words):
    response = _post(en_client, token_for(cast.nominator), **body)
    assert response.status_code == 422
    assert words.lower() in response.json["error"]["fields"][field].lower()
    _nothing_saved()


def test_every_error_is_reported_at_once(en_client, token_for, cast):
    response = _post(
        en_client,
        token_for(cast.nominator),
        {"iin": "123", "birth_date": "1927-02-30", "category": "x", "district": "x"},
        medal="x",
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) >= {
        "nominee.iin",
        "nominee.birth_date",
        "nominee.category",
        "nominee.district",
        "medal",
    }
    _nothing_saved()


def test_a_valid_iin_is_saved_without_spaces_and_may_be_sent_as_a_number(client, token_for, cast):
    birth = date(1927, 3, 14)
    value = make_iin(birth)
    spaced = f"{value[:6]} {value[6:]}"
    response = _post(client, token_for(cast.nominator), {"iin": spaced, "birth_date": birth.isoformat()})
    assert response.status_code == 201, response.json
    nomination = client.get(f"/api/v1/nominations/{response.json['id']}", headers=token_for(cast.nominator)).json
    assert nomination["nominee"]["iin"] == value

    other = make_iin(birth)
    response = _post(client, token_for(cast.nominator), {"iin": int(other), "birth_date": "14.03.1927"})
    assert response.status_code == 201, response.json


def test_no_iin_is_allowed(client, token_for, cast):
    response = _post(client, token_for(cast.nominator), {"iin": "", "birth_date": "1924-06-22"})
    assert response.status_code == 201, response.json
    body = client.get(f"/api/v1/nominations/{response.json['id']}", headers=token_for(cast.nominator)).json
    assert body["nominee"]["iin"] is None and body["nominee"]["birth_date"] == "1924-06-22"


def test_service_gives_the_same_fields(app, cast):
    with pytest.raises(ValidationFailed) as exc:
        service.create_nomination(
            db.session,
            actor(cast.nominator),
            {"nominee": nominee_data(iin="860904350504", birth_date="1986-09-05"), "medal": MEDAL_CODE, "grounds": "x"},
        )
    assert set(exc.value.fields) == {"nominee.iin"}
    _nothing_saved()
