"""The demo's fictitious people: Kazakh and Russian names (with the usual spelling
variants), towns, villages and workplaces of the Ulytau region, the grounds of a
nomination as a district would write them, and the reasons staff give."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .. import names
from ..nominations import iin as iin_module

# The name and place lists are data: kept as they read, not one item a line.
# fmt: off
KK_SURNAMES = [
    "Әбенов", "Қасымов", "Нұрланов", "Сәтбаев", "Өмірзақов", "Ұлықбеков", "Ғабитов", "Тоқтаров", "Шәріпов",
    "Есенов", "Бекмұхамбетов", "Жақыпов", "Сейітов", "Оспанов", "Мұқанов", "Байжанов", "Төлеуов", "Ержанов",
    "Қожахметов", "Сұлтанов", "Жұмабаев", "Дүйсенов", "Ахметов", "Кенжебаев", "Тұрсынов", "Нұрмағамбетов",
    "Мырзахметов", "Рахымжанов", "Ысқақов", "Бейсенов", "Үсенов", "Иманбаев", "Әлімжанов", "Сағынтаев",
    "Қалиев", "Жүнісов", "Тәжібаев", "Смағұлов", "Елеусізов", "Ордабаев", "Қуанышев", "Мәметов", "Шайкенов",
    "Әубәкіров", "Құрманғалиев", "Бөрібаев", "Ізбасаров", "Һасенов", "Теңізбаев", "Жеңісов", "Мыңжасаров",
]


KK_MALE = ["Ахмет", "Бейсен", "Болат", "Дүйсен", "Ермек", "Жақып", "Жұмабек", "Қасым", "Қайрат", "Мұқан",
           "Мұхтар", "Нұрғали", "Оспан", "Рахым", "Сәрсен", "Сейіт", "Тұрсын", "Төлеген", "Үсен", "Ыбырай",
           "Әбен", "Шәкен", "Ғабит", "Ілияс", "Әлібек", "Құрманбек", "Ерғали", "Хамит", "Ізтай", "Сағындық",
           "Жеңіс", "Мыңбай"]


KK_FEMALE = ["Әлия", "Айша", "Бибігүл", "Гүлжан", "Күлпаш", "Қалипа", "Мәрзия", "Нұрсұлу", "Рабиға",
             "Сара", "Тоғжан", "Ұлжан", "Үміт", "Шолпан", "Фатима", "Хадиша", "Һажар", "Ақбала", "Бәтима",
             "Зейнеп", "Ләтипа", "Мағрипа", "Кәмила", "Дәмеш", "Жәмила", "Зәуре", "Меңдігүл"]


KK_FATHERS = ["Сәрсен", "Жақып", "Қасым", "Ахмет", "Оспан", "Бейсен", "Дүйсен", "Тұрсын", "Әбен", "Мұқан",
              "Нұрғали", "Ғабит", "Үсен", "Ысқақ", "Рахым", "Жүніс", "Смағұл", "Әбдіқадыр", "Байжан", "Ерғали",
              "Құрман", "Шәріп", "Төлеу", "Иманғали", "Өтеген", "Мәуле"]


RU_SURNAMES = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков",
               "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
               "Степанов", "Николаев", "Орлов", "Макаров", "Захаров", "Зайцев", "Соловьёв", "Борисов",
               "Яковлев", "Григорьев", "Романов", "Галиев", "Сафин", "Хайруллин"]


UNCHANGED_SURNAMES = ["Шевченко", "Бондаренко", "Коваленко", "Ткаченко", "Кравченко", "Ким", "Пак", "Цой",
                      "Тен", "Шмидт", "Вагнер", "Миллер", "Беккер", "Фишер"]


RU_MALE = ["Иван", "Пётр", "Николай", "Алексей", "Михаил", "Василий", "Фёдор", "Григорий", "Владимир",
           "Сергей", "Андрей", "Виктор", "Павел", "Анатолий", "Дмитрий", "Генрих"]


RU_FEMALE = ["Мария", "Анна", "Екатерина", "Валентина", "Нина", "Антонина", "Зинаида", "Клавдия", "Евдокия",
             "Татьяна", "Александра", "Лидия", "Галина", "Раиса", "Прасковья", "Эльза"]


RU_FATHERS = [("Иванович", "Ивановна"), ("Петрович", "Петровна"), ("Николаевич", "Николаевна"),
              ("Алексеевич", "Алексеевна"), ("Михайлович", "Михайловна"), ("Васильевич", "Васильевна"),
              ("Фёдорович", "Фёдоровна"), ("Григорьевич", "Григорьевна"), ("Семёнович", "Семёновна"),
              ("Степанович", "Степановна"), ("Андреевич", "Андреевна"), ("Яковлевич", "Яковлевна"),
              ("Егорович", "Егоровна"), ("Кузьмич", "Кузьминична"), ("Тимофеевич", "Тимофеевна"),
              ("Генрихович", "Генриховна")]


TOWNS = {
    # district: (kk prefix, ru prefix, [(kk street, ru street)])
    "zhezkazgan": ("Жезқазған қ.", "г. Жезказган", [
        ("Алашахан даңғылы", "пр. Алашахана"), ("Абай көшесі", "ул. Абая"),
        ("С. Сейфуллин көшесі", "ул. С. Сейфуллина"), ("Гагарин көшесі", "ул. Гагарина"),
        ("Бейбітшілік көшесі", "ул. Бейбітшілік"), ("Желтоқсан көшесі", "ул. Желтоқсан"),
        ("Жамбыл көшесі", "ул. Жамбыла"), ("Қ. Сәтбаев көшесі", "ул. К. Сатпаева"),
        ("Ғ. Мұратбаев көшесі", "ул. Г. Муратбаева"), ("Пушкин көшесі", "ул. Пушкина")]),
    "satbayev": ("Сәтбаев қ.", "г. Сатпаев", [
        ("Қ. Сәтбаев даңғылы", "пр. К. Сатпаева"), ("Абай көшесі", "ул. Абая"),
        ("Ш. Уәлиханов көшесі", "ул. Ш. Уалиханова"), ("Жеңіс көшесі", "ул. Победы"),
        ("Ы. Алтынсарин көшесі", "ул. Ы. Алтынсарина")]),
    "karazhal": ("Қаражал қ.", "г. Каражал", [
        ("Тәуелсіздік көшесі", "ул. Тауелсиздик"), ("М. Әуезов көшесі", "ул. М. Ауэзова"),
        ("Кеншілер көшесі", "ул. Горняков"), ("Бейбітшілік көшесі", "ул. Бейбітшілік")]),
}


VILLAGES = {
    # district: (kk district, ru district, [(kk village, ru village)])
    "ulytau": ("Ұлытау ауданы", "Улытауский район", [
        ("Ұлытау а.", "с. Улытау"), ("Қаракеңгір а.", "с. Каракенгир"), ("Терісаққан а.", "с. Терисаккан"),
        ("Жезді кенті", "пос. Жезды"), ("Қоскөл а.", "с. Косколь")]),
    "zhanaarka": ("Жаңаарқа ауданы", "Жанааркинский район", [
        ("Атасу кенті", "пос. Атасу"), ("Жаңаарқа кенті", "пос. Жанаарка"), ("Түгіскен а.", "с. Тугискен"),
        ("Ералиев а.", "с. Ералиев"), ("Сейфуллин а.", "с. Сейфуллин")]),
}


VILLAGE_STREETS = [("Абай көшесі", "ул. Абая"), ("Орталық көшесі", "ул. Центральная"),
                   ("Жеңіс көшесі", "ул. Победы"), ("Мектеп көшесі", "ул. Школьная")]


# Where people of each district worked or fought in 1941–1945: (kk, ru).
WORKPLACES = {
    "zhezkazgan": [("Жезқазған мыс кенішінде", "на Джезказганском медном руднике"),
                   ("Қарсақпай мыс балқыту зауытында", "на Карсакпайском медеплавильном заводе"),
                   ("Байқоңыр көмір кенішінде", "на Байконурском угольном руднике"),
                   ("Жезқазған кен басқармасының механикалық шеберханасында",
                    "в механических мастерских Джезказганского рудоуправления")],
    "satbayev": [("Жезқазған мыс кенішінде", "на Джезказганском медном руднике"),
                 ("«Қызыл ту» колхозында", "в колхозе «Кызыл ту»")],
    "karazhal": [("Жезді марганец кенішінде", "на Джездинском марганцевом руднике"),
                 ("Атасу темір кен барлау партиясында", "в Атасуйской геологоразведочной партии")],
    "ulytau": [("Жезді марганец кенішінде", "на Джездинском марганцевом руднике"),
               ("«Ұлытау» колхозының қой фермасында", "на овцеферме колхоза «Улытау»")],
    "zhanaarka": [("«Жаңаарқа» колхозында", "в колхозе «Жанаарка»"),
                  ("Атасу МТС-інде", "на Атасуйской МТС")],
}


CATEGORY_BIRTH_YEARS = {
    "front_veteran": (1920, 1927), "home_front_worker": (1922, 1932), "siege_survivor": (1926, 1939),
    "partisan": (1920, 1928), "former_prisoner": (1928, 1939), "other_participant": (1920, 1929),
}


CATEGORY_FEMALE_SHARE = {
    "front_veteran": 0.1, "home_front_worker": 0.6, "siege_survivor": 0.7, "partisan": 0.2,
    "former_prisoner": 0.5, "other_participant": 0.3,
}


OTHER_CATEGORIES = (("home_front_worker", 50), ("front_veteran", 15), ("siege_survivor", 10),
                    ("former_prisoner", 9), ("other_participant", 9), ("partisan", 7))
# fmt: on


def grounds_text(rng: random.Random, category: str, district: str, female: bool, kk: bool) -> str:
    place_kk, place_ru = rng.choice(WORKPLACES[district])
    start = rng.choice((1941, 1942, 1942, 1943))
    end = rng.choice((1944, 1945, 1945))
    a = "а" if female else ""
    if category == "home_front_worker":
        job_kk = rng.choice(("кен тасушы", "кенші", "есепші", "тракторшы", "шопан", "жүк тасушы"))
        job_ru = rng.choice(
            (
                "откатчиком" if not female else "откатчицей",
                "учётчиком" if not female else "учётчицей",
                "подсобным рабочим" if not female else "подсобной рабочей",
                "трактористом" if not female else "трактористкой",
            )
        )
        if kk:
            return (
                f"{start}–{end} жылдары {place_kk} {job_kk} болып еңбек еткен. «1941–1945 жж. Ұлы Отан "
                f"соғысындағы ерен еңбегі үшін» медалімен марапатталған. Тыл еңбеккерінің куәлігі бар."
            )
        return (
            f"В {start}–{end} гг. работал{a} {place_ru} {job_ru}. Награжден{a} медалью «За доблестный "
            f"труд в Великой Отечественной войне 1941–1945 гг.». Удостоверение труженика тыла имеется."
        )
    if category == "front_veteran":
        front_kk, front_ru = rng.choice(
            (
                ("Сталинград", "Сталинградском"),
                ("1-ші Украин", "1-м Украинском"),
                ("2-ші Белорус", "2-м Белорусском"),
                ("Волхов", "Волховском"),
            )
        )
        if kk:
            return (
                f"{start} жылы әскерге шақырылған. {front_kk} майданында соғысқан, жараланған. "
                f"II дәрежелі Отан соғысы орденімен және «Ерлігі үшін» медалімен марапатталған."
            )
        return (
            f"Призван{a} в {start} г. Воевал{a} на {front_ru} фронте, был{a} ранен{a}. Награжден{a} "
            f"орденом Отечественной войны II степени и медалью «За отвагу»."
        )
    if category == "siege_survivor":
        if kk:
            return (
                "1941 жылдың қыркүйегінен 1943 жылдың қаңтарына дейін қоршаудағы Ленинградта тұрған. "
                "1944 жылы Жезқазғанға көшірілген. «Қоршаудағы Ленинград тұрғынына» белгісі бар."
            )
        return (
            f"С сентября 1941 по январь 1943 г. жил{a} в блокадном Ленинграде. В 1944 г. эвакуирован{a} "
            f"в Джезказган. Награжден{a} знаком «Жителю блокадного Ленинграда»."
        )
    if category == "partisan":
        if kk:
            return (
                "1942–1944 жылдары Белоруссиядағы партизан отрядында соғысқан. «Ұлы Отан соғысының "
                "партизанына» медалімен марапатталған."
            )
        return (
            f"В 1942–1944 гг. воевал{a} в партизанском отряде в Белоруссии. Награжден{a} медалью "
            f"«Партизану Отечественной войны»."
        )
    if category == "former_prisoner":
        if kk:
            return (
                "Бала кезінде фашистік концлагерьдің тұтқыны болған (1942–1945). Босатылғаннан кейін "
                "Жезқазған өңіріне қоныс аударған."
            )
        return (
            f"В детстве был{a} узником фашистского концлагеря (1942–1945). После освобождения "
            f"переехал{a} в Джезказганский край."
        )
    if kk:
        return (
            f"{start}–{end} жылдары еңбек армиясында болып, {place_kk} жұмыс істеген. Қорғаныс "
            f"құрылыстарын салуға қатысқан."
        )
    return (
        f"В {start}–{end} гг. находил{'ась' if female else 'ся'} в трудовой армии, работал{a} {place_ru}. "
        f"Участвовал{a} в строительстве оборонительных сооружений."
    )


def address_text(rng: random.Random, district: str, kk: bool) -> str:
    house = rng.randint(1, 120)
    if district in TOWNS:
        town_kk, town_ru, streets = TOWNS[district]
        street_kk, street_ru = rng.choice(streets)
        flat = rng.randint(1, 90) if rng.random() < 0.7 else None
        if kk:
            return f"{town_kk}, {street_kk}, {house}-үй" + (f", {flat}-пәтер" if flat else "")
        return f"{town_ru}, {street_ru}, д. {house}" + (f", кв. {flat}" if flat else "")
    dist_kk, dist_ru, villages = VILLAGES[district]
    village_kk, village_ru = rng.choice(villages)
    street_kk, street_ru = rng.choice(VILLAGE_STREETS)
    if kk:
        return f"{dist_kk}, {village_kk}, {street_kk}, {house}-үй"
    return f"{dist_ru}, {village_ru}, {street_ru}, д. {house}"


@dataclass
class Person:
    surname: str
    given_name: str
    patronymic: str
    birth_date: date
    female: bool
    category: str
    district: str
    kk: bool  # grounds and address in Kazakh (else Russian)
    iin: str | None = None
    address: str = ""
    phone: str | None = None
    grounds: str = ""
    extra: dict = field(default_factory=dict)

    def payload(self, medal_code: str) -> dict:
        return {
            "nominee": {
                "surname": self.surname,
                "given_name": self.given_name,
                "patronymic": self.patronymic,
                "iin": self.iin,
                "birth_date": self.birth_date.isoformat(),
                "category": self.category,
                "district": self.district,
                "address": self.address,
                "phone": self.phone,
            },
            "medal": medal_code,
            "grounds": self.grounds,
        }


class People:
    """Deterministic people with unique IINs and no accidental likely duplicates."""

    def __init__(self, seed: int = 1945):
        self.rng = random.Random(seed)
        self.iins: set[str] = set()
        self.keys: set[tuple[date, str]] = set()

    def _birth(self, category: str) -> date:
        low, high = CATEGORY_BIRTH_YEARS[category]
        start = date(low, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(high, 12, 31) - start).days + 1))

    def iin_for(self, birth: date, female: bool) -> str:
        while True:
            value = iin_module.make(birth, self.rng.randrange(1, 10000), female=female)
            if value is not None and value not in self.iins:
                self.iins.add(value)
                return value

    def reserve(self, person: Person) -> None:
        self.keys.add((person.birth_date, names.skeleton(person.surname, person.given_name)))

    def make(self, category: str, district: str) -> Person:
        rng = self.rng
        while True:
            female = rng.random() < CATEGORY_FEMALE_SHARE[category]
            kazakh = rng.random() < (0.72 if district in ("zhezkazgan", "satbayev", "karazhal") else 0.88)
            if kazakh:
                surname = rng.choice(KK_SURNAMES) + ("а" if female else "")
                given = rng.choice(KK_FEMALE if female else KK_MALE)
                father = rng.choice(KK_FATHERS)
                style = rng.random()
                if style < 0.82:
                    patronymic = father + ("қызы" if female else "ұлы")
                elif style < 0.97:  # Soviet-era documents: -ович / -овна
                    patronymic = father + ("овна" if female else "ович")
                else:
                    patronymic = ""
                kk = rng.random() < 0.8
            else:
                if rng.random() < 0.3:
                    surname = rng.choice(UNCHANGED_SURNAMES)
                else:
                    surname = rng.choice(RU_SURNAMES) + ("а" if female else "")
                given = rng.choice(RU_FEMALE if female else RU_MALE)
                patronymic = rng.choice(RU_FATHERS)[1 if female else 0]
                kk = rng.random() < 0.15
            birth = self._birth(category)
            key = (birth, names.skeleton(surname, given))
            if key not in self.keys:
                break
        self.keys.add(key)
        person = Person(surname, given, patronymic, birth, female, category, district, kk)
        person.iin = self.iin_for(birth, female)
        person.address = address_text(rng, district, kk)
        if rng.random() < 0.65:
            person.phone = (
                f"+7 {rng.choice(('701', '702', '705', '707', '747', '771', '775', '777'))} "
                f"{rng.randint(200, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            )
        person.grounds = grounds_text(rng, category, district, female, kk)
        return person


RETURN_REASONS_REVIEWER = [
    "Тыл еңбеккері куәлігінің көшірмесі тіркелмеген. Көшірмесін қосып, қайта жіберіңіз.",
    "Уточните период работы в 1941–1945 гг.: в заявлении указан только год.",
    "Мекенжай ХҚКО деректерімен сәйкес келмейді, тексеріп түзетіңіз.",
    "Нет архивной справки о трудовом стаже. Приложите справку и отправьте снова.",
]


RETURN_REASONS_COMMISSION = [
    "Комиссии нужна копия наградного документа за 1941–1945 гг. Приложите и отправьте снова.",
    "Негіздемеде жұмыс орны көрсетілмеген. Толықтырыңыз.",
    "Уточните фамилию по удостоверению: в заявлении и в копии она написана по-разному.",
]


REJECT_REASONS_REVIEWER = [
    "Тылдағы жұмыс кезеңі 6 айдан аз: санат бойынша негіз жоқ.",
    "Не проживает в районе: выдвигается по месту жительства в Карагандинской области.",
    "Архив 1941–1945 жж. еңбек өтілін растамады.",
]


REJECT_REASONS_COMMISSION = [
    "Уже награжден(а) этой медалью по месту прежнего жительства (сведения Министерства обороны).",
    "Документы о работе в годы войны не подтверждены архивом.",
]


WITHDRAW_REASONS = [
    "Отбасы ұсынудан бас тартты.",
    "Переехал(а) в Караганду, выдвигается по новому месту жительства.",
    "Выдвинут(а) повторно по ошибке.",
]


CORRECTION_NOTE = "Приложена копия удостоверения труженика тыла; адрес уточнен."
