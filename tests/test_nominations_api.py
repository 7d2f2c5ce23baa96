"""Lists and queues: filters, search by name in any script or by IIN, district
scope, each role's "waiting for me"; the list and detail endpoints of the API."""

from __future__ import annotations

import pytest

from award_service.extensions import db
from award_service.medals.service import create_medal
from award_service.nominations import lists, service, transitions

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import MEDAL_CODE, advance, nominate, nominee_data


@pytest.fixture
def world(system, cast):
    """Nominations of two districts, two medals, several categories, every common state."""
    create_medal(
        db.session,
        system,
        {
            "code": "labour",
            "name_kk": "Еңбек",
            "name_ru": "Труд",
            "name_en": "Labour",
            "serial_prefix": "LAB",
            "quotas": {"zhezkazgan": 5},
        },
    )
    n = {}
    n["draft"] = nominate(
        cast.nominator,
        surname="Жұмабаев",
        given_name="Қайрат",
        patronymic="Сәкенұлы",
        birth_date="1928-01-02",
        iin="280102300020",
        category="home_front_worker",
    )
    n["submitted"] = advance(
        nominate(cast.nominator, surname="Әбенова", given_name="Сәуле", category="front_veteran"), "submitted", cast
    )
    n["recommended"] = advance(
        nominate(cast.nominator, surname="Сәтбаев", given_name="Қаныш", category="partisan"), "recommended", cast
    )
    n["approved"] = advance(nominate(cast.nominator, surname="Оспанов", given_name="Болат"), "approved", cast)
    n["returned"] = advance(nominate(cast.nominator, surname="Төлегенов", given_name="Мәди"), "returned", cast)
    n["rejected"] = advance(nominate(cast.nominator, surname="Ермеков", given_name="Ғани"), "rejected", cast)
    n["labour"] = nominate(cast.nominator2, surname="Смагулов", given_name="Тілеу", medal_code="labour")
    n["far_submitted"] = advance(
        nominate(cast.far_nominator, surname="Иванов", given_name="Иван", district="karazhal"), "submitted", cast
    )
    n["far_recommended"] = advance(
        nominate(
            cast.far_nominator, surname="Нұрғалиұлы", given_name="Ерлан", district="karazhal", category="siege_survivor"
        ),
        "recommended",
        cast,
        reviewer=cast.far_reviewer,
    )
    return {key: value.id for key, value in n.items()}


def listed(user, **filters) -> list[int]:
    return list(db.session.scalars(lists.list_query(user, **filters)))


def ids(user, **filters) -> set[int]:
    return {n.id for n in listed(user, **filters)}


def queue(user) -> set[int]:
    return {n.id for n in db.session.scalars(lists.queue_query(user))}


# ------------------------------------------------------------------ filters


def test_filters(cast, world):
    admin = cast.admin
    assert ids(admin) == set(world.values())
    assert [n.id for n in listed(admin)] == sorted(world.values(), reverse=True)  # newest first
    assert ids(admin, status="submitted") == {world["submitted"], world["far_submitted"]}
    assert ids(admin, district="karazhal") == {world["far_submitted"], world["far_recommended"]}
    assert ids(admin, medal="labour") == {world["labour"]}
    assert ids(admin, category="partisan") == {world["recommended"]}
    assert ids(admin, status="recommended", district="zhezkazgan", medal=MEDAL_CODE) == {world["recommended"]}
    assert ids(admin, category="siege_survivor", district="zhezkazgan") == set()
    assert ids(admin, district="nowhere") == set() and ids(admin, medal="nothing") == set()


@pytest.mark.parametrize(
    "query",
    [
        "Жұмабаев",
        "жумабаев",
        "ЖҰМАБАЕВ",
        "Jūmabaev",
        "Jumabaev",
        "Zhumabaev",
        "Dzhumabaev",
        "Qairat",
        "Кайрат",
        "Kairat Jumabaev",
        "Қайрат Жұмабаев",
        "Жұмаба",
        "Sakenuly",
        "Сәкенұлы",
        "280102",
        "2801 0230",
        "280102300020",
    ],
)
def test_search_by_name_in_any_script_or_by_iin(cast, world, query):
    assert ids(cast.admin, q=query) == {world["draft"]}, query


def test_search_finds_each_by_its_own_name(cast, world):
    assert ids(cast.admin, q="Abenova") == {world["submitted"]}
    assert ids(cast.admin, q="Сатбаев") == {world["recommended"]}
    assert ids(cast.admin, q="Satbaev Kanysh") == {world["recommended"]}
    assert ids(cast.admin, q="Нургали") == {world["far_recommended"]}
    assert ids(cast.admin, q="Ivanov") == {world["far_submitted"]}


@pytest.mark.parametrize("query", ["Мұхтар", "Жұмабаев Ерлан", "280103", "9999", "%", "_", "%%", "' OR 1=1 --", "—"])
def test_search_that_matches_nothing(cast, world, query):
    assert ids(cast.admin, q=query) == set(), query


def test_search_by_iin_and_name_together(cast, world):
    assert ids(cast.admin, q="2801") == {world["draft"]}
    assert ids(cast.admin, q="Қайрат 280102") == {world["draft"]}
    assert ids(cast.admin, q="Сәуле 280102") == set()


# -------------------------------------------------------- district scope


def test_district_staff_see_their_district_only(cast, world):
    zhezkazgan = {v for k, v in world.items() if not k.startswith("far_")}
    karazhal = {world["far_submitted"], world["far_recommended"]}
    assert ids(cast.reviewer) == zhezkazgan
    assert ids(cast.nominator) == zhezkazgan
    assert ids(cast.far_reviewer) == karazhal
    assert ids(cast.far_reviewer, district="zhezkazgan") == set()
    assert ids(cast.far_reviewer, q="Жұмабаев") == set()
    assert ids(cast.commission) == set(world.values())  # the regional commission
    assert ids(cast.clerk) == set(world.values())


# ------------------------------------------------------------------ queues


def test_each_role_has_its_queue(cast, world):
    assert queue(cast.nominator) == {world["draft"], world["returned"]}
    assert queue(cast.nominator2) == {world["labour"]}  # what they entered
    assert queue(cast.far_nominator) == set()
    assert queue(cast.reviewer) == {world["submitted"]}
    assert queue(cast.far_reviewer) == {world["far_submitted"]}
    assert queue(cast.commission) == {world["recommended"], world["far_recommended"]}
    assert queue(cast.clerk) == {world["approved"]}
    assert queue(cast.admin) == set()
    assert queue(cast.organiser) == set()


def test_a_queue_empties_as_work_is_done(cast, world):
    from .nomination_factories import actor

    nomination = db.session.get(service.Nomination, world["submitted"])
    transitions.transition(db.session, actor(cast.reviewer), nomination, "recommend")
    assert queue(cast.reviewer) == set()
    assert queue(cast.commission) == {world["recommended"], world["far_recommended"], world["submitted"]}


def test_a_district_commission_sees_its_district_queue(staff_user, cast, world):
    local_commission = staff_user("commission", district="karazhal")
    assert queue(local_commission) == {world["far_recommended"]}


# ---------------------------------------------------------------- the API


def test_list_endpoint_with_filters_search_and_pages(client, token_for, cast, world):
    headers = token_for(cast.reviewer)
    body = client.get("/api/v1/nominations", headers=headers).json
    assert body["total"] == 7 and {i["id"] for i in body["items"]} == {
        v for k, v in world.items() if not k.startswith("far_")
    }
    body = client.get("/api/v1/nominations?status=submitted", headers=headers).json
    assert [i["id"] for i in body["items"]] == [world["submitted"]]
    body = client.get("/api/v1/nominations", query_string={"q": "Jumabaev"}, headers=headers).json
    assert [i["id"] for i in body["items"]] == [world["draft"]]
    item = body["items"][0]
    assert item["nominee"]["full_name"] == "Жұмабаев Қайрат Сәкенұлы" and item["nominee"]["iin"] == "280102300020"
    assert item["medal"] == MEDAL_CODE and item["district"] == "zhezkazgan" and item["status"] == "draft"
    pages = [client.get(f"/api/v1/nominations?per_page=3&page={p}", headers=headers).json for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0] and {p["total"] for p in pages} == {7}
    seen = [i["id"] for p in pages for i in p["items"]]
    assert len(seen) == len(set(seen)) == 7
    body = client.get("/api/v1/nominations?district=karazhal", headers=headers).json
    assert body["total"] == 0  # another district: not visible, whatever the filter
    body = client.get("/api/v1/nominations?medal=labour&category=home_front_worker", headers=token_for(cast.admin)).json
    assert [i["id"] for i in body["items"]] == [world["labour"]]


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=lost", "status"),
        ("category=hero", "category"),
        ("q=" + "ж" * 101, "q"),
        ("page=0", "page"),
        ("per_page=501", "per_page"),
        ("page=x", "page"),
    ],
)
def test_list_endpoint_refuses_bad_filters(client, token_for, cast, query, field):
    response = client.get(f"/api/v1/nominations?{query}", headers=token_for(cast.reviewer))
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_list_endpoint_needs_a_role_that_sees_nominations(client, token_for, cast):
    assert client.get("/api/v1/nominations").status_code == 401
    assert client.get("/api/v1/nominations", headers=token_for(cast.organiser)).status_code == 403


def test_detail_endpoint(client, token_for, cast, world):
    headers = token_for(cast.commission)
    body = client.get(f"/api/v1/nominations/{world['recommended']}", headers=headers).json
    assert body["status"] == "recommended" and body["nominee"]["surname"] == "Сәтбаев"
    assert [h["action"] for h in body["history"]] == ["nomination.create", "nomination.submit", "nomination.recommend"]
    for bad in ("999999", "abc", "0", "-1", "99999999999999999999"):
        response = client.get(f"/api/v1/nominations/{bad}", headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found", bad
    assert (
        client.get(f"/api/v1/nominations/{world['recommended']}", headers=token_for(cast.far_reviewer)).status_code
        == 403
    )
    assert (
        client.post("/api/v1/nominations/999999/transitions", json={"action": "submit"}, headers=headers).status_code
        == 404
    )


def test_create_endpoint_answers_id_and_status(client, token_for, cast):
    response = client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator),
        json={
            "nominee": nominee_data(surname="  Жұмабаев  ", given_name="Қайрат", patronymic="Сәкенұлы"),
            "medal": MEDAL_CODE,
            "grounds": "1942–1945 жылдары Жезқазған кенішінде еңбек етті.",
        },
    )
    assert response.status_code == 201
    assert response.json["status"] == "draft" and response.json["possible_duplicate"] is False
    body = client.get(f"/api/v1/nominations/{response.json['id']}", headers=token_for(cast.reviewer)).json
    assert body["nominee"]["surname"] == "Жұмабаев"  # trimmed, kept as typed
    assert body["nominee"]["phone"] == "+77012345678"


def test_create_endpoint_refuses_what_is_not_json(client, token_for, cast):
    headers = token_for(cast.nominator)
    assert client.post("/api/v1/nominations", data="x", headers=headers).status_code == 415
    assert (
        client.post("/api/v1/nominations", data="[1]", content_type="application/json", headers=headers).status_code
        == 400
    )
    response = client.post("/api/v1/nominations", json={}, headers=headers)
    assert response.status_code == 422
    assert {"nominee", "medal", "grounds"} <= set(response.json["error"]["fields"])


def test_long_names_in_letters_that_transliterate_long_are_stored(client, token_for, cast):
    """Each name at its 100-character limit, in letters that become two Latin ones
    (Щ -> sh): the derived search key must still fit its column."""
    response = client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator),
        json={
            "nominee": nominee_data(surname="Щ" * 100, given_name="Щ" * 100, patronymic="Ю" * 100),
            "medal": MEDAL_CODE,
            "grounds": "x",
        },
    )
    assert response.status_code == 201, response.json
    assert client.get(f"/api/v1/nominations?q={'Щ' * 10}", headers=token_for(cast.nominator)).json["total"] == 1
