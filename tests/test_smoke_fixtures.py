from award_service.ceremonies.models import Ceremony
from award_service.extensions import db


def test_fixtures_give_a_migrated_database(make_ceremony, client):
    ceremony = make_ceremony()
    assert db.session.get(Ceremony, ceremony.id).district.code == "zhezkazgan"
    assert client.get(f"/ceremonies/{ceremony.id}").status_code == 200
