"""A demo billing system: one *full* batch in import contract v1 (docs/billing-sync.md).

``write_demo_batch(out_dir, customers=..., seed=..., years=..., today=...)`` writes ``manifest.json`` and one JSON
Lines file per entity into ``out_dir``. The output is a pure function of (customers, seed, years, today): each
customer draws from its own ``random.Random`` seeded with (seed, customer index), timestamps derive from ``today``
(never from the clock), and rows are written in a stable order, so two runs give byte-identical files and the
first N customers of a bigger batch are the same as a batch of N (only document numbers, which run per month
across all customers, depend on the customers before).

Customers are generated one at a time and streamed to the nine files, so memory stays flat at 200,000 customers.
Names and streets come from Faker's pl_PL provider data, read once and picked with our own Random (no per-row
Faker calls). Check digits (NIP, PESEL, NRB/IBAN, bank sort code, KSeF CRC-8) are computed, not faked.

What the data looks like:

* customers: ~85% persons, ~8% companies and institutions (NIP), ~7% housing communities and cooperatives (NIP,
  5-40 buildings each); persons have a PESEL about half the time; every customer has an individual NRB account.
* services: water and sewage (contracts WATER_SEWAGE, some WATER, a few SEWAGE; tariff groups W1 households, W2
  others; cold water main meters in m3, a garden SUB meter on some houses, not discharged to the sewer) and
  district heat (contract HEAT, tariff groups A1, A2, B1, heat meters in GJ, ordered capacity in MW).
* ~15% fixed-term contracts, a third of them ending within 60 days; meters with 5-year legalization, replaced
  in the window (old one removed, new one installed the same day, starting near 0), ~5% expiring within 60 days.
* readings every two months (water) or monthly (heat), cumulative, never decreasing; some SELF, REMOTE, ESTIMATE.
* invoices per delivery point (water bimonthly, heat monthly) with the lines a Polish utility prints,
  VAT 8% on water and sewage, 23% on heat;
  KSeF numbers since 2026-02-01; a few negative corrections (credited through an OFFSET payment) and interest
  notes (VAT "zw", customer-wide) for late payers.
* payments settled against documents by the billing system: one transfer per billing run (a housing community
  pays all its buildings' invoices at once), late, partial, duplicate and rounded-up payments, a handful of
  debtors; overpayments are used on the next documents.
* balances: sum(outstanding) minus the unallocated overpayment; overdue: outstanding past due on ``today``.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from core.money import round_money, vat_for

CONTRACT_VERSION = 1
ENTITIES = (
    "customers",
    "contracts",
    "delivery_points",
    "meters",
    "readings",
    "invoices",
    "payments",
    "balances",
    "payment_plans",
)
SELLER_NIP = "7952345678"  # the default of settings.IBOK_UTILITY_NIP; the command passes the configured one
KSEF_START = date(2026, 2, 1)  # KSeF is mandatory for invoices issued from this day
OFFLINE_DAYS = 31  # a tenth of the last month's invoices were issued offline and wait for a KSeF number
EXPORT_SECOND = 5 * 3600  # the billing system exports at 05:00 UTC (06:00 or 07:00 in Warsaw)

DAY = 86400

# First two digits of the postal codes of the cities in Faker's pl_PL list (the 50 biggest).
POSTAL_PREFIXES = {
    "Warszawa": ("00", "01", "02", "03", "04"),
    "Kraków": ("30", "31"),
    "Łódź": ("90", "91", "92", "93", "94"),
    "Wrocław": ("50", "51", "52", "53", "54"),
    "Poznań": ("60", "61"),
    "Gdańsk": ("80",),
    "Szczecin": ("70", "71"),
    "Bydgoszcz": ("85",),
    "Lublin": ("20",),
    "Katowice": ("40",),
    "Białystok": ("15",),
    "Gdynia": ("81",),
    "Częstochowa": ("42",),
    "Radom": ("26",),
    "Sosnowiec": ("41",),
    "Toruń": ("87",),
    "Kielce": ("25",),
    "Gliwice": ("44",),
    "Rzeszów": ("35",),
    "Zabrze": ("41",),
    "Bytom": ("41",),
    "Olsztyn": ("10",),
    "Bielsko-Biała": ("43",),
    "Ruda Śląska": ("41",),
    "Rybnik": ("44",),
    "Tychy": ("43",),
    "Dąbrowa Górnicza": ("41",),
    "Gorzów Wielkopolski": ("66",),
    "Elbląg": ("82",),
    "Płock": ("09",),
    "Opole": ("45",),
    "Wałbrzych": ("58",),
    "Zielona Góra": ("65",),
    "Włocławek": ("87",),
    "Tarnów": ("33",),
    "Chorzów": ("41",),
    "Koszalin": ("75",),
    "Kalisz": ("62",),
    "Legnica": ("59",),
    "Grudziądz": ("86",),
    "Słupsk": ("76",),
    "Jaworzno": ("43",),
    "Jastrzębie-Zdrój": ("44",),
    "Nowy Sącz": ("33",),
    "Jelenia Góra": ("58",),
    "Konin": ("62",),
    "Piotrków Trybunalski": ("97",),
    "Siedlce": ("08",),
    "Inowrocław": ("88",),
    "Mysłowice": ("41",),
}

# Faker's baby-name lists lack the names of people who sign utility contracts; these common ones weigh more.
COMMON_MALE = (
    "Andrzej", "Krzysztof", "Piotr", "Tomasz", "Paweł", "Marek", "Michał", "Grzegorz", "Jan", "Józef", "Jerzy",
    "Tadeusz", "Adam", "Zbigniew", "Ryszard", "Dariusz", "Henryk", "Mariusz", "Kazimierz", "Wojciech", "Robert",
    "Mirosław", "Marcin", "Janusz", "Stanisław", "Maciej", "Rafał", "Roman", "Sławomir", "Jacek", "Leszek",
    "Waldemar", "Zdzisław", "Bogdan", "Edward", "Władysław", "Czesław", "Wiesław", "Jarosław", "Artur",
)  # fmt: skip
COMMON_FEMALE = (
    "Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna", "Magdalena",
    "Elżbieta", "Joanna", "Aleksandra", "Monika", "Zofia", "Teresa", "Danuta", "Natalia", "Karolina", "Marta",
    "Beata", "Dorota", "Halina", "Jadwiga", "Janina", "Alicja", "Iwona", "Grażyna", "Renata", "Paulina",
    "Bożena", "Irena", "Wiesława", "Stanisława", "Jolanta", "Urszula", "Helena", "Hanna", "Sylwia", "Justyna",
)  # fmt: skip
NOT_ON_CONTRACTS = {"Bartek", "Aleks", "Alex", "Maks", "Tola", "Gaja", "Nela", "Nicole", "Anna Maria", "Ada", "Kaja"}
STREET_FIXES = {
    "Maja": "3 Maja",
    "Stycznia": "17 Stycznia",
    "Listopada": "11 Listopada",
    "Wojciecha": "św. Wojciecha",
    "Floriana": "św. Floriana",
    "Jadwigi": "Królowej Jadwigi",
    "Jana": "Jana Kilińskiego",
}
NICE_NAMES = (
    "Zacisze", "Pod Lipami", "Słoneczne", "Zielone Wzgórze", "Nad Stawem", "Przyszłość", "Metalowiec", "Kolejarz",
    "Budowlani", "Piast", "Jutrzenka", "Pogodna", "Nasz Dom", "Energetyk", "Hutnik", "Zgoda", "Wspólny Dom",
    "Na Skarpie", "Widok", "Parkowa", "Tęcza", "Malwa", "Jantar", "Stokrotka", "Pod Dębem", "Polanka", "Relaks",
)  # fmt: skip
COMPANY_TRADES = (
    ("Piekarnia", 0.6), ("Zakład Usług Remontowych", 0.3), ("Auto-Serwis", 0.5), ("Myjnia Samochodowa", 3.0),
    ("Restauracja", 1.2), ("Przychodnia Lekarska", 0.8), ("Apteka", 0.2), ("Hotel", 2.0), ("Pralnia", 2.5),
    ("Zakład Fryzjerski", 0.3), ("Przedsiębiorstwo Handlowo-Usługowe", 0.4), ("Sklep Spożywczy", 0.3),
)  # fmt: skip
COMPANY_SUFFIXES = ("Sp. z o.o.", "Sp. z o.o.", "Sp. z o.o.", "S.A.", "Sp.j.", "s.c.", "Sp. z o.o. Sp.k.")
PUBLIC_BODIES = (
    ("Szkoła Podstawowa nr {n}", 1.5), ("Przedszkole Miejskie nr {n}", 0.8), ("Żłobek Miejski nr {n}", 0.6),
    ("Zespół Szkół Zawodowych nr {n}", 1.5), ("Miejski Ośrodek Sportu i Rekreacji", 4.0),
    ("Dom Pomocy Społecznej nr {n}", 2.5), ("Miejska Biblioteka Publiczna, filia nr {n}", 0.2),
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl", "poczta.onet.pl")
MOBILE_PREFIXES = ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88")
TO_ASCII = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")

# Tariffs: 2024 net prices (zł), scaled by the year's factor (tariff changes on 1 January).
WATER_TARIFFS = {  # group: (water per m3, sewage per m3, fixed fee per month)
    "W1": ("6.62", "9.48", "4.37"),
    "W2": ("6.95", "10.24", "9.82"),
}
HEAT_TARIFFS = {  # group: (heat per GJ, ordered capacity per MW a month, fixed transmission per MW a month, per GJ)
    "A1": ("86.41", "9853.20", "4121.50", "31.24"),
    "A2": ("86.41", "9853.20", "3386.90", "26.53"),
    "B1": ("82.94", "9421.70", "4418.30", "33.08"),
}
WATER_YEAR_FACTOR = {2019: "0.78", 2020: "0.81", 2021: "0.84", 2022: "0.88", 2023: "0.94", 2024: "1", 2025: "1.065"}
WATER_YEAR_FACTOR |= {2026: "1.11", 2027: "1.15", 2028: "1.19"}
HEAT_YEAR_FACTOR = {2019: "0.55", 2020: "0.57", 2021: "0.60", 2022: "0.78", 2023: "0.96", 2024: "1", 2025: "1.045"}
HEAT_YEAR_FACTOR |= {2026: "1.07", 2027: "1.10", 2028: "1.13"}
# Share of a year's space heating per calendar month, and of water use (relative) per month.
DEGREE_DAYS_A_YEAR = 3600  # heating degree-days (base 18 °C) of an average Polish year
HEAT_SHARE = (0.175, 0.155, 0.13, 0.08, 0.03, 0.005, 0.003, 0.003, 0.025, 0.085, 0.135, 0.174)
WATER_SEASON = (0.95, 0.93, 0.97, 1.0, 1.05, 1.12, 1.15, 1.12, 1.03, 0.98, 0.95, 0.97)
GARDEN_SEASON = (0.0, 0.0, 0.0, 0.3, 1.0, 1.4, 1.6, 1.4, 0.8, 0.2, 0.0, 0.0)
# Statutory interest for late payment (odsetki ustawowe za opóźnienie): NBP reference rate + 5.5 pp, approximate.
LATE_INTEREST = (
    (date(2021, 10, 7), "6.00"), (date(2021, 11, 4), "6.75"), (date(2021, 12, 9), "7.25"),
    (date(2022, 1, 5), "7.75"), (date(2022, 2, 9), "8.25"), (date(2022, 3, 9), "9.00"), (date(2022, 4, 7), "10.00"),
    (date(2022, 5, 6), "10.75"), (date(2022, 6, 9), "11.50"), (date(2022, 7, 8), "12.00"),
    (date(2022, 9, 8), "12.25"), (date(2023, 9, 7), "11.50"), (date(2023, 10, 5), "11.25"),
    (date(2025, 5, 8), "10.75"), (date(2025, 7, 3), "10.50"), (date(2025, 9, 4), "10.25"),
    (date(2025, 10, 9), "10.00"), (date(2025, 11, 6), "9.75"),
)  # fmt: skip
INTEREST_GRACE_DAYS = 30  # the utility charges interest only on payments a month late or more
INTEREST_NOTE_THRESHOLD = 2000  # cents: interest below 20 zł a quarter is not worth a note

RATE_8 = Decimal(8)  # water supply and sewage disposal
RATE_23 = Decimal(23)  # district heat (back at the standard rate since 2023)
ZERO = Decimal("0.00")


# --------------------------------------------------------------------------------------------- check digits


def randint(rng: random.Random, low: int, high: int) -> int:
    """rng.randint without its overhead (several times faster; uniform the same way for our small ranges)."""
    return low + int(rng.random() * (high - low + 1))


def below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def nip_check_digit(first9: str) -> int | None:
    """The NIP check digit, or None when the checksum is 10 (such numbers are not issued)."""
    check = sum(int(d) * w for d, w in zip(first9, (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True)) % 11
    return None if check == 10 else check


def pesel_check_digit(first10: str) -> int:
    return (10 - sum(int(d) * w for d, w in zip(first10, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True)) % 10) % 10


def sort_code(bank_and_branch: str) -> str:
    """Eight-digit Polish bank sort code (numer rozliczeniowy): 7 digits and a weighted check digit."""
    total = sum(int(d) * w for d, w in zip(bank_and_branch, (3, 9, 7, 1, 3, 9, 7), strict=True))
    return f"{bank_and_branch}{(10 - total % 10) % 10}"


def nrb(bban: str) -> str:
    """NRB (26 digits) for a 24-digit BBAN: the IBAN check digits for PL (P=25, L=21) in front."""
    return f"{98 - int(bban + '252100') % 97:02d}{bban}"


def luhn_digit(number: str) -> int:
    total = 0
    for i, d in enumerate(reversed(number)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


CRC8_TABLE = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8 (polynomial 0x07, init 0x00), the checksum closing a KSeF number."""
    crc = 0
    for byte in data:
        crc = CRC8_TABLE[crc ^ byte]
    return crc


def ksef_number(seller_nip: str, day: date, key: str) -> str:
    """NIP-YYYYMMDD-XXXXXXXXXXXX-CC: 12 hex chars derived from ``key`` and the CRC-8 of the first 32 chars."""
    body = f"{seller_nip}-{day:%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:12].upper()}"
    return f"{body}-{crc8(body.encode()):02X}"


def ksef_hash(content: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content.encode()).digest()).rstrip(b"=").decode()


# --------------------------------------------------------------------------------------------- formatting


def money(cents: int) -> str:
    if cents < 0:
        return f"-{-cents // 100}.{-cents % 100:02d}"
    return f"{cents // 100}.{cents % 100:02d}"


def milli(value: int) -> str:
    return f"{value // 1000}.{value % 1000:03d}"


def cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def add_months(first_of_month: date, months: int) -> date:
    y, m = divmod(first_of_month.month - 1 + months, 12)
    return date(first_of_month.year + y, m + 1, 1)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def workday(day: date) -> date:
    wd = day.weekday()
    return day + timedelta(days=7 - wd) if wd >= 5 else day


def late_interest_rate(day: date) -> Decimal:
    rate = LATE_INTEREST[0][1]
    for since, value in LATE_INTEREST:
        if since > day:
            break
        rate = value
    return Decimal(rate)


@cache
def _year_factor(table: tuple, year: int) -> Decimal:
    factors = dict(table)
    first, last = min(factors), max(factors)
    if year < first:
        return Decimal(factors[first]) * Decimal("0.96") ** (first - year)
    if year > last:
        return Decimal(factors[last]) * Decimal("1.04") ** (year - last)
    return Decimal(factors[year])


@cache
def water_prices(group: str, year: int) -> tuple[Decimal, Decimal, Decimal]:
    factor = _year_factor(tuple(WATER_YEAR_FACTOR.items()), year)
    return tuple(round_money(Decimal(base) * factor) for base in WATER_TARIFFS[group])


@cache
def heat_prices(group: str, year: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    factor = _year_factor(tuple(HEAT_YEAR_FACTOR.items()), year)
    return tuple(round_money(Decimal(base) * factor) for base in HEAT_TARIFFS[group])


# --------------------------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class _Reference:
    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    surnames: tuple[tuple[str, str], ...]  # (masculine, feminine)
    streets: tuple[str, ...]
    tax_offices: tuple[str, ...]
    cities: tuple[str, ...]


def _feminine(surname: str) -> str:
    return surname[:-1] + "a" if surname.endswith(("ski", "cki", "dzki")) else surname


@cache
def _reference() -> _Reference:
    from faker.providers.address.pl_PL import Provider as AddressPL
    from faker.providers.person.pl_PL import Provider as PersonPL

    male = tuple(n for n in PersonPL.first_names_male if n not in NOT_ON_CONTRACTS) + COMMON_MALE * 3
    female = tuple(n for n in PersonPL.first_names_female if n not in NOT_ON_CONTRACTS) + COMMON_FEMALE * 3
    common = tuple((s, _feminine(s)) for s in PersonPL.male_last_names)
    rare = tuple((s, s) for s in PersonPL.unisex_last_names[:800])
    streets = []
    for name in AddressPL.streets_adjective_feminine:
        streets.append(f"ul. {name}")
    for name in AddressPL.streets_universal:
        name = STREET_FIXES.get(name, name)
        if name == "Rynek":
            streets.append(name)
        elif name in ("Kościuszki", "Wolności", "Piłsudskiego", "Niepodległości", "Wyzwolenia"):
            streets.append(f"pl. {name}")
            streets.append(f"al. {name}")
        else:
            streets.append(f"ul. {name}")
    cities = tuple(c for c in AddressPL.cities if c in POSTAL_PREFIXES)
    return _Reference(male, female, common * 3 + rare, tuple(streets), tuple(PersonPL.tax_office_codes), cities)


# --------------------------------------------------------------------------------------------- the simulation


class _Doc:
    __slots__ = (
        "kind", "point_id", "issue", "due", "p0", "p1", "lines", "net", "vat", "gross_c", "out_c", "seq",
        "corrected", "stamp", "last", "id", "number", "service", "items", "months",
    )  # fmt: skip

    def __init__(self, kind, point_id, issue, due, p0, p1, lines, net, vat, seq, stamp, service):
        self.kind = kind
        self.point_id = point_id
        self.issue = issue
        self.due = due
        self.p0 = p0
        self.p1 = p1
        self.lines = lines
        self.net = net
        self.vat = vat
        self.gross_c = cents(net + vat)
        self.out_c = self.gross_c if self.gross_c > 0 else 0
        self.seq = seq
        self.corrected = None
        self.stamp = stamp
        self.last = stamp
        self.service = service
        self.items = None
        self.id = self.number = ""


class _Pay:
    __slots__ = ("date", "amount_c", "channel", "title", "docs", "allocs", "stamp", "last", "seq", "id")

    def __init__(self, paid, amount_c, channel, title, docs, stamp, seq):
        self.date = paid
        self.amount_c = amount_c
        self.channel = channel
        self.title = title
        self.docs = docs
        self.allocs = []
        self.stamp = stamp
        self.last = stamp
        self.seq = seq
        self.id = ""


@dataclass
class _Plan:
    """A payment the customer will make: for which documents, how, and the amount rule."""

    docs: list
    mode: str  # full, partial, round, dup, rest, account, note
    channel: str
    amount_c: int = 0


class _Batch:
    def __init__(self, *, seed: int, years: int, today: date, seller_nip: str):
        if years < 1:
            raise ValueError("years must be at least 1")
        self.seed = seed
        self.years = years
        self.today = today
        self.today_o = today.toordinal()
        self.gen_at = self.today_o * DAY + EXPORT_SECOND
        self.day_strings: dict[int, str] = {}
        self.generated_at = self.fmt_stamp(self.gen_at)
        self.history_start = date(today.year - years, today.month, 1)
        self.seller_nip = seller_nip
        self.ref = _reference()
        self.counters: dict[tuple[str, int, int], int] = {}
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

        area = random.Random(f"ibok-demo-area:{seed}")
        self.city = area.choice(self.ref.cities[10:])  # a mid-size city: municipal utilities serve one town
        prefix = POSTAL_PREFIXES[self.city]
        base = area.randrange(0, 9) * 100
        streets = area.sample(self.ref.streets, 160)
        self.streets = tuple(
            (street, f"{area.choice(prefix)}-{base + area.randrange(1, 60):03d}") for street in sorted(streets)
        )
        # How cold each heating season was (1 = average): the same for every customer.
        self.winter = {y: 0.88 + 0.24 * area.random() for y in range(today.year - years - 30, today.year + 2)}
        self.bank_sort_code = sort_code("1020" + f"{area.randrange(100, 999):03d}")  # PKO BP branch
        self.virtual_prefix = f"{area.randrange(100000, 999999):06d}"

    # ---------------------------------------------------------------- time stamps (seconds since date ordinal 0)

    def stamp(self, day: date, rng: random.Random, lo: int = 7 * 3600, hi: int = 15 * 3600) -> int:
        o = day.toordinal()
        if o >= self.today_o:  # a change made today: only the night before the export
            return self.gen_at - 600 - int(rng.random() * 13800)
        return o * DAY + lo + int(rng.random() * (hi - lo))

    def fmt_stamp(self, seconds: int) -> str:
        o, rest = divmod(seconds, DAY)
        day = self.day_strings.get(o)
        if day is None:
            day = self.day_strings[o] = date.fromordinal(o).isoformat()
        h, rest = divmod(rest, 3600)
        m, s = divmod(rest, 60)
        return f"{day}T{h:02d}:{m:02d}:{s:02d}+00:00"

    def day_between(self, rng: random.Random, first: date, last: date) -> date:
        span = (last - first).days
        return first + timedelta(days=randint(rng, 0, span)) if span > 0 else first

    def next_number(self, series: str, day: date) -> str:
        key = (series, day.year, day.month)
        n = self.counters.get(key, 0) + 1
        self.counters[key] = n
        return f"{series}/{day.year}/{day.month:02d}/{n:06d}"

    # ---------------------------------------------------------------- people, firms, addresses

    def address(self, rng: random.Random, *, flat: bool) -> dict:
        street, postal = rng.choice(self.streets)
        building = str(randint(rng, 1, 60) if flat else randint(rng, 1, 180))
        if rng.random() < 0.08:
            building += rng.choice("ABC")
        apartment = str(randint(rng, 1, 90)) if flat else ""
        return {
            "street": street,
            "building": building,
            "apartment": apartment,
            "postal_code": postal,
            "city": self.city,
        }

    def address_elsewhere(self, rng: random.Random) -> dict:
        city = rng.choice(self.ref.cities)
        postal = f"{rng.choice(POSTAL_PREFIXES[city])}-{randint(rng, 1, 999):03d}"
        flat = rng.random() < 0.5
        return {
            "street": rng.choice(self.ref.streets),
            "building": str(randint(rng, 1, 120)),
            "apartment": str(randint(rng, 1, 90)) if flat else "",
            "postal_code": postal,
            "city": city,
        }

    def nip(self, rng: random.Random) -> str:
        while True:
            first9 = rng.choice(self.ref.tax_offices) + f"{below(rng, 1_000_000):06d}"
            check = nip_check_digit(first9)
            if check is not None:
                return f"{first9}{check}"

    def pesel(self, rng: random.Random, female: bool) -> str:
        born = date(self.today.year - randint(rng, 22, 88), randint(rng, 1, 12), randint(rng, 1, 28))
        month = born.month + (20 if born.year >= 2000 else 0)
        sex = rng.randrange(0, 10, 2) + (0 if female else 1)
        first10 = f"{born.year % 100:02d}{month:02d}{born.day:02d}{below(rng, 1000):03d}{sex}"
        return f"{first10}{pesel_check_digit(first10)}"

    def bank_account(self, customer_number: str) -> str:
        return nrb(f"{self.bank_sort_code}{self.virtual_prefix}{int(customer_number):010d}")

    # ---------------------------------------------------------------- one customer

    def customer(self, i: int, out: dict) -> None:
        rng = random.Random(f"ibok-demo:{self.seed}:{i}")
        ref = self.ref
        cid = f"C{i + 1:06d}"
        seq_number = f"{10000 + 3 * i + below(rng, 3):06d}"
        number = f"{seq_number}{luhn_digit(seq_number)}"

        r = rng.random()
        kind = "PERSON" if r < 0.85 else "COMPANY" if r < 0.93 else "HOUSING_COMMUNITY"
        r = rng.random()
        if kind == "PERSON":
            services = ("WATER",) if r < 0.66 else ("HEAT",) if r < 0.88 else ("WATER", "HEAT")
        elif kind == "COMPANY":
            services = ("WATER",) if r < 0.55 else ("HEAT",) if r < 0.70 else ("WATER", "HEAT")
        else:
            services = ("WATER",) if r < 0.45 else ("HEAT",) if r < 0.70 else ("WATER", "HEAT")

        row = {"id": cid, "changed_at": "", "number": number, "kind": kind}
        email = phone = ""
        pesel = nip = ""
        buildings: list[dict] = []
        usage = 1.0  # water use of a firm relative to an average one
        if kind == "PERSON":
            female = rng.random() < 0.52
            first = rng.choice(ref.female_first if female else ref.male_first)
            surname = rng.choice(ref.surnames)[1 if female else 0]
            name = f"{first} {surname}"
            if rng.random() < 0.5:
                pesel = self.pesel(rng, female)
            flat = "HEAT" not in services and rng.random() < 0.25
            home = self.address(rng, flat=flat)
            mailing = home if rng.random() < 0.92 else self.address_elsewhere(rng)
            if rng.random() < 0.58:
                login = f"{first}.{surname}".lower().translate(TO_ASCII).replace(" ", "")
                if rng.random() < 0.5:
                    login += str(randint(rng, 1, 99))
                email = f"{login}@{rng.choice(EMAIL_DOMAINS)}"
            if rng.random() < 0.8:
                phone = f"+48{rng.choice(MOBILE_PREFIXES)}{below(rng, 10_000_000):07d}"
            buildings.append(home)
        elif kind == "COMPANY":
            nip = self.nip(rng)
            surname = rng.choice(ref.surnames)[0]
            r = rng.random()
            if r < 0.15:
                template, usage = rng.choice(PUBLIC_BODIES)
                name = template.format(n=randint(rng, 1, 24))
            elif r < 0.55:
                trade, usage = rng.choice(COMPANY_TRADES)
                name = f"{trade} „{rng.choice(NICE_NAMES)}” {rng.choice(COMPANY_SUFFIXES)}"
            elif r < 0.8:
                other = rng.choice(ref.surnames)[0]
                name = f"{surname}{rng.choice(('-', ' i '))}{other} {rng.choice(COMPANY_SUFFIXES)}"
            else:
                person = f"{rng.choice(ref.male_first)} {surname}"
                name = f"{rng.choice(('PPUH', 'FHU', 'PHU', 'Zakład Usługowy'))} {surname.upper()} {person}"
            seat = self.address(rng, flat=False) if rng.random() < 0.75 else self.address_elsewhere(rng)
            seat["apartment"] = ""
            mailing = seat
            slug = surname.lower().translate(TO_ASCII)
            if rng.random() < 0.85:
                email = f"{rng.choice(('biuro', 'kontakt', 'ksiegowosc', 'faktury'))}@{slug}.pl"
            if rng.random() < 0.9:
                phone = f"+48{rng.choice(('62', '63', '65', '22', '32', '61', '71'))}{below(rng, 10_000_000):07d}"
            for _ in range(1 if rng.random() < 0.55 else randint(rng, 2, 3)):
                buildings.append(self.address(rng, flat=False))
        else:
            nip = self.nip(rng)
            n_buildings = 5 + int(35 * rng.random() ** 3)
            street_count = 1 + n_buildings // 12
            streets = [rng.choice(self.streets) for _ in range(street_count)]
            house = randint(rng, 1, 30)
            for j in range(n_buildings):
                street, postal = streets[j % street_count]
                building = str(house + 2 * (j // street_count))
                buildings.append(
                    {"street": street, "building": building, "apartment": "", "postal_code": postal, "city": self.city}
                )
            first = buildings[0]
            if n_buildings < 10 and rng.random() < 0.6:
                last = buildings[street_count * ((n_buildings - 1) // street_count)]
                name = f"Wspólnota Mieszkaniowa {first['street']} {first['building']}–{last['building']}"
            elif n_buildings < 10:
                name = f"Wspólnota Mieszkaniowa „{rng.choice(NICE_NAMES)}”"
            else:
                kind_of = rng.choice(("Spółdzielnia Mieszkaniowa", "Spółdzielnia Mieszkaniowa Lokatorsko-Własnościowa"))
                name = f"{kind_of} „{rng.choice(NICE_NAMES)}”"
            mailing = dict(first)
            if rng.random() < 0.7:
                email = f"{rng.choice(('administracja', 'zarzad', 'biuro'))}@sm-{rng.randrange(100, 999)}.pl"
            if rng.random() < 0.8:
                phone = f"+48{rng.choice(('62', '63', '65'))}{below(rng, 10_000_000):07d}"

        row["name"] = name
        if nip:
            row["nip"] = nip
        if pesel:
            row["pesel"] = pesel
        if email:
            row["email"] = email
        if phone:
            row["phone"] = phone
        row["bank_account"] = self.bank_account(number)
        row["address"] = mailing

        # ------------------------------------------------------------ contracts and delivery points
        contracts = []
        points = []
        window_first = self.history_start + timedelta(days=15)
        window_last = self.today - timedelta(days=45)
        for service in services:
            r = rng.random()
            fixed_term = rng.random() < 0.15
            if fixed_term:
                ends_soon = rng.random() < 0.35
                until = self.today + timedelta(days=randint(rng, 1, 60) if ends_soon else randint(rng, 61, 1100))
                valid_from = until - timedelta(days=randint(rng, 365, 5 * 365))
                valid_from = max(date(1998, 1, 1), min(valid_from, self.today - timedelta(days=70)))
            else:
                until = None
                if r < 0.15:
                    valid_from = self.day_between(rng, window_first, window_last)
                else:
                    valid_from = self.day_between(rng, date(1996, 1, 1), self.history_start - timedelta(days=1))
            signed = valid_from - timedelta(days=randint(rng, 3, 40))
            if service == "WATER":
                r = rng.random()
                ckind = "WATER_SEWAGE" if r < 0.83 else "WATER" if r < 0.98 else "SEWAGE"
                cnumber = f"UW/{signed.year}/{i + 1:06d}"
                ccode = "W"
            else:
                ckind = "HEAT"
                cnumber = f"UC/{signed.year}/{i + 1:06d}"
                ccode = "C"
            contract = {
                "id": f"K{i + 1:06d}{ccode}",
                "changed_at": self.fmt_stamp(self.stamp(signed, rng)),
                "customer_id": cid,
                "number": cnumber,
                "kind": ckind,
                "signed_date": signed.isoformat(),
                "valid_from": valid_from.isoformat(),
                "valid_until": until.isoformat() if until else None,
            }
            contracts.append((contract, service, valid_from, ckind))
            if kind == "PERSON":
                point_addresses = [buildings[0]]
                if service == "WATER" and rng.random() < 0.03:  # a garden plot
                    plot = self.address(rng, flat=False)
                    plot["building"] = f"dz. {randint(rng, 1, 240)}"
                    point_addresses.append(plot)
            else:
                point_addresses = buildings
            for n, address in enumerate(point_addresses, start=1):
                points.append((service, contract, valid_from, ckind, n, address))

        out["customers"].append(row)
        for contract, *_rest in contracts:
            out["contracts"].append(contract)

        # ------------------------------------------------------------ points, meters, readings, invoices
        groups: dict[tuple, list] = {}
        due_days = 14 if kind == "PERSON" else 21
        parity = below(rng, 2)
        issue_delay = {}
        for point_no, (service, contract, start, ckind, n, address) in enumerate(points, start=1):
            pid = f"DP{i + 1:06d}{point_no:03d}"
            code = f"{'PW' if service == 'WATER' else 'PC'}-{i + 1:06d}-{n:02d}"
            if service == "WATER":
                tariff = "W1" if kind != "COMPANY" else "W2"
            elif kind == "PERSON":
                tariff = "A1"
            elif kind == "COMPANY":
                tariff = "B1" if rng.random() < 0.6 else "A2"
            else:
                tariff = "A2" if rng.random() < 0.7 else "A1"
            out["delivery_points"].append(
                {
                    "id": pid,
                    "changed_at": contract["changed_at"],
                    "customer_id": cid,
                    "contract_id": contract["id"],
                    "code": code,
                    "service": service,
                    "tariff_group": tariff,
                    "address": address,
                }
            )
            garden = address["building"].startswith("dz.")
            bounds = self.boundaries(start, service, parity)
            n_periods = len(bounds) - 1
            # consumption per period, in thousandths of m3 or GJ
            if service == "WATER":
                if garden:
                    monthly = rng.uniform(1.0, 3.0)
                    season = GARDEN_SEASON
                elif kind == "PERSON":
                    persons = rng.choices((1, 2, 3, 4, 5, 6), (18, 27, 22, 20, 9, 4))[0]
                    monthly = persons * rng.uniform(2.5, 4.0)
                    season = WATER_SEASON
                elif kind == "COMPANY":
                    monthly = usage * 6 * (120 / 6) ** rng.random()
                    season = WATER_SEASON
                else:
                    monthly = randint(rng, 8, 72) * 2.3 * rng.uniform(2.6, 3.6)
                    season = WATER_SEASON
                consumption = [
                    int(1000 * monthly * self.months_weight(bounds[k], bounds[k + 1], season) * rng.uniform(0.85, 1.15))
                    for k in range(n_periods)
                ]
                daily = monthly / 30.4
                capacity = None
            else:
                if kind == "PERSON":
                    capacity = randint(rng, 10, 22)  # kW; ordered capacity in MW with three decimals
                    annual, hot_water = capacity / 1000 * rng.uniform(3500, 5000), 0.1  # a house: 40-100 GJ a year
                elif kind == "COMPANY":
                    capacity = int(30 * 20 ** rng.random())
                    annual, hot_water = capacity / 1000 * rng.uniform(3500, 6000), 0.05
                else:
                    capacity = randint(rng, 80, 350)
                    annual, hot_water = capacity / 1000 * rng.uniform(5500, 7500), 0.22
                consumption = [
                    int(1000 * annual * self.heat_weight(bounds[k], bounds[k + 1], hot_water) * rng.uniform(0.92, 1.08))
                    for k in range(n_periods)
                ]
                daily = annual / 365
            slots = [("MAIN", consumption, daily)]
            own_house = service == "WATER" and kind == "PERSON" and not garden and not address["apartment"]
            if own_house and rng.random() < 0.14:  # a garden tap with its own submeter: not discharged to the sewer
                garden_monthly = rng.uniform(2.0, 9.0)
                sub = [
                    int(1000 * garden_monthly * self.months_weight(bounds[k], bounds[k + 1], GARDEN_SEASON))
                    for k in range(n_periods)
                ]
                slots.append(("SUB", sub, garden_monthly * 5 / 365))
                for k in range(n_periods):  # the garden tap is behind the main meter
                    consumption[k] += sub[k]
            remote = rng.random() < (0.12 if service == "WATER" else 0.55)
            quantities = []
            for slot_no, (meter_kind, cons, slot_daily) in enumerate(slots):
                q = self.meters(
                    rng, out, pid, point_no, slot_no, service, meter_kind, start, bounds, cons, slot_daily, remote
                )
                quantities.append(q)
            # invoices, grouped by billing run (contract and period) so that one payment may settle a run
            for k in range(n_periods):
                p0, p1 = bounds[k], bounds[k + 1]
                key = (contract["id"], k)
                if key not in issue_delay:
                    delay = randint(rng, 3, 10) if service == "WATER" else randint(rng, 2, 7)
                    issue_delay[key] = workday(p1 + timedelta(days=delay))
                issue = issue_delay[key]
                if issue >= self.today:
                    continue
                if service == "WATER":
                    lines, net, vat = self.water_lines(
                        ckind, tariff, p0, p1, quantities[0][k], quantities[1][k] if len(quantities) > 1 else 0
                    )
                else:
                    lines, net, vat = self.heat_lines(tariff, p0, quantities[0][k], capacity)
                groups.setdefault((issue, contract["id"], k), []).append(
                    (pid, service, p0, p1, lines, net, vat, issue, due_days)
                )

        self.settle(rng, i, cid, number, kind, groups, out)

        stamp = self.stamp(min(c[2] for c in contracts) - timedelta(days=randint(rng, 0, 20)), rng)
        if rng.random() < 0.3:  # contact data updated recently
            stamp = max(stamp, self.stamp(self.day_between(rng, self.history_start, self.today), rng))
        row["changed_at"] = self.fmt_stamp(stamp)

    # ---------------------------------------------------------------- periods and consumption

    def boundaries(self, start: date, service: str, parity: int) -> list[date]:
        """Billing period limits from the later of the contract start and the window start, up to today."""
        step = 2 if service == "WATER" else 1
        first = max(start, self.history_start)
        b = date(first.year, first.month, 1)
        if b < first:
            b = add_months(b, 1)
        if step == 2 and (b.month - 1) % 2 != parity:
            b = add_months(b, 1)
        bounds = [first] if first < b and start > self.history_start else []
        while b <= self.today:
            bounds.append(b)
            b = add_months(b, step)
        if len(bounds) > 2 and bounds[0] == first and (bounds[1] - first).days < 15:
            del bounds[1]  # a contract starting a few days before a period limit: the first bill covers both
        return bounds

    @staticmethod
    def months_weight(p0: date, p1: date, season: tuple) -> float:
        """Months in [p0, p1) weighted by the season (a partial month counts by its days)."""
        total = 0.0
        m = date(p0.year, p0.month, 1)
        while m < p1:
            nxt = add_months(m, 1)
            days = (min(nxt, p1) - max(m, p0)).days
            total += season[m.month - 1] * days / (nxt - m).days
            m = nxt
        return total

    def heat_weight(self, p0: date, p1: date, hot_water: float) -> float:
        total = 0.0
        m = date(p0.year, p0.month, 1)
        while m < p1:
            nxt = add_months(m, 1)
            days = (min(nxt, p1) - max(m, p0)).days
            winter = self.winter[m.year if m.month >= 9 else m.year - 1]
            share = (1 - hot_water) * HEAT_SHARE[m.month - 1] * winter + hot_water / 12
            total += share * days / (nxt - m).days
            m = nxt
        return total

    def degree_days(self, p0: date, p1: date) -> Decimal:
        """Heating degree-days of [p0, p1): the area's DEGREE_DAYS_A_YEAR spread as the heat use, times the winter."""
        total = 0.0
        m = date(p0.year, p0.month, 1)
        while m < p1:
            nxt = add_months(m, 1)
            days = max((min(nxt, p1) - max(m, p0)).days, 0)
            winter = self.winter[m.year if m.month >= 9 else m.year - 1]
            total += DEGREE_DAYS_A_YEAR * HEAT_SHARE[m.month - 1] * winter * days / (nxt - m).days
            m = nxt
        return Decimal(f"{total:.1f}")

    # ---------------------------------------------------------------- meters and readings

    def meters(self, rng, out, pid, point_no, slot_no, service, meter_kind, start, bounds, cons, daily, remote):
        """Write the meters of one slot (main or sub) and their readings; return billed quantity per period."""
        today = self.today
        n_periods = len(bounds) - 1
        water = service == "WATER"
        new_connection = start > self.history_start
        r = rng.random()
        if r < 0.015:
            expiry = today - timedelta(days=randint(rng, 1, 200))
        elif r < 0.08:  # some of these are new connections, which get a new meter: ~5% in the end
            expiry = today + timedelta(days=randint(rng, 0, 60))
        else:
            expiry = today + timedelta(days=randint(rng, 61, 5 * 365 - 1))
        installed = add_years(expiry, -5)
        first_reading = bounds[0] if new_connection else bounds[0] - timedelta(days=1)
        replaced_at = None  # (period index, date)
        if new_connection:
            installed = start
        elif installed > first_reading and n_periods >= 2:
            k = n_periods - 1
            while k > 0 and bounds[k] > installed:
                k -= 1
            k = max(k, 1 if bounds[1] - bounds[0] < timedelta(days=20) else 0)
            lo, hi = bounds[k] + timedelta(days=5), bounds[k + 1] - timedelta(days=8)
            installed = min(max(installed, lo), hi)
            replaced_at = (k, installed)
        elif installed > first_reading:
            installed = first_reading - timedelta(days=randint(rng, 30, 400))

        def serial(day: date) -> str:
            maker = rng.choice(("APT", "DHL", "ITR", "SEN", "BMT") if water else ("KAM", "ZEN", "LGR", "APT"))
            return f"{maker}{day.year % 100:02d}-{below(rng, 10_000_000):07d}"

        medium, unit = ("COLD_WATER", "m3") if water else ("HEAT", "GJ")
        meter_rows = []
        if replaced_at:
            # replaced up to 200 days before its legalization ran out, or a little after
            old_installed = add_years(installed, -5) + timedelta(days=randint(rng, -30, 200))
            meter_rows.append([old_installed, installed, serial(old_installed)])
        meter_rows.append([installed, None, serial(installed)])
        meter_ids = []
        for j, (inst, removed, serial_number) in enumerate(meter_rows):
            mid = f"M{pid[2:]}{slot_no}{j}"
            meter_ids.append(mid)
            changed = self.stamp(removed or inst, rng)
            out["meters"].append(
                {
                    "id": mid,
                    "changed_at": self.fmt_stamp(changed),
                    "delivery_point_id": pid,
                    "serial_number": serial_number,
                    "kind": meter_kind,
                    "medium": medium,
                    "unit": unit,
                    "installed_date": inst.isoformat(),
                    "removed_date": removed.isoformat() if removed else None,
                    "legalization_valid_until": add_years(inst, 5).isoformat(),
                }
            )

        readings = out["readings"]
        whole = water and not remote  # a collector writes whole cubic metres
        mid = meter_ids[0]
        reading_no = 0

        last_day = None

        def emit(day: date, value: int, source: str) -> None:
            nonlocal reading_no, last_day
            if last_day is not None and day <= last_day and reading_no:
                day = last_day + timedelta(days=1)
            previous_day, last_day = (last_day if reading_no else None), day
            reading_no += 1
            entered = day + timedelta(days=0 if source in ("REMOTE", "ESTIMATE") else randint(rng, 0, 3))
            row = {
                "id": f"R{mid[1:]}{reading_no:03d}",
                "changed_at": self.fmt_stamp(self.stamp(min(entered, today), rng)),
                "meter_id": mid,
                "read_date": day.isoformat(),
                "value": milli(value),
                "source": source,
            }
            if not water and previous_day is not None:  # the heat supplier's weather station
                row["degree_days"] = str(self.degree_days(previous_day, day))
            readings.append(row)

        def pick_source() -> str:
            r = rng.random()
            if remote:
                return "ESTIMATE" if r < 0.02 else "REMOTE"
            if not water:
                return "ESTIMATE" if r < 0.06 else "COLLECTOR"
            if meter_kind == "SUB":
                return "SELF" if r < 0.55 else "ESTIMATE" if r < 0.6 else "COLLECTOR"
            return "COLLECTOR" if r < 0.78 else "SELF" if r < 0.95 else "ESTIMATE"

        def read_day(boundary: date) -> date:
            if remote:
                return boundary - timedelta(days=1)
            return boundary - timedelta(days=1 + randint(rng, 0, 3))

        # the true register value at the first boundary
        if new_connection:
            true = randint(rng, 0, 30) if water else 0
        else:
            days = (bounds[0] - meter_rows[0][0]).days
            true = int(1000 * daily * days * rng.uniform(0.9, 1.1))
        recorded = (true // 1000) * 1000 if whole else true
        if new_connection:
            emit(bounds[0], recorded, "COLLECTOR")
        else:
            emit(read_day(bounds[0]), recorded, "REMOTE" if remote else "COLLECTOR")
        quantities = []
        for k in range(n_periods):
            c = cons[k]
            q = 0
            if replaced_at and replaced_at[0] == k:
                part = int(c * (replaced_at[1] - bounds[k]).days / (bounds[k + 1] - bounds[k]).days)
                true += part
                final = max(recorded, (true // 1000) * 1000 if whole else true)
                emit(replaced_at[1], final, "COLLECTOR")
                q += final - recorded
                mid = meter_ids[1]
                reading_no = 0
                true = randint(rng, 0, 30) if water else 0
                recorded = true
                emit(replaced_at[1], recorded, "COLLECTOR")
                c -= part
            true += c
            source = pick_source()
            value = (true // 1000) * 1000 if whole else true
            if source == "ESTIMATE":
                value = min(value, recorded + int(c * rng.uniform(0.6, 1.0)))
                if whole:
                    value = (value // 1000) * 1000
            value = max(value, recorded)
            emit(read_day(bounds[k + 1]), value, source)
            q += value - recorded
            recorded = value
            quantities.append(q)
        return quantities

    # ---------------------------------------------------------------- invoice lines

    @staticmethod
    def line(position: int, description: str, quantity: Decimal, unit: str, price: Decimal, rate: Decimal) -> tuple:
        net = round_money(quantity * price)
        vat = vat_for(net, rate)
        return (
            {
                "position": position,
                "description": description,
                "quantity": str(quantity),
                "unit": unit,
                "unit_price_net": str(price),
                "net": str(net),
                "vat_rate": str(rate),
                "vat": str(vat),
                "gross": str(net + vat),
            },
            net,
            vat,
        )

    def water_lines(self, ckind, tariff, p0, p1, water_q, garden_q):
        water_price, sewage_price, fixed_fee = water_prices(tariff, p0.year)
        months = max(1, round((p1 - p0).days / 30.4))
        items = []
        if ckind != "SEWAGE":
            items.append(("Woda", Decimal(milli(water_q)), "m3", water_price))
        if ckind != "WATER":
            sewage_q = max(0, water_q - garden_q)
            items.append(("Ścieki", Decimal(milli(sewage_q)), "m3", sewage_price))
        items.append(("Opłata abonamentowa", Decimal(months), "m-c", fixed_fee))
        return self.sum_lines(items)

    def heat_lines(self, tariff, p0, heat_q, capacity_kw):
        heat_price, capacity_price, fixed_price, variable_price = heat_prices(tariff, p0.year)
        gj = Decimal(milli(heat_q))
        mw = Decimal(milli(capacity_kw))
        items = [
            ("Opłata za ciepło", gj, "GJ", heat_price),
            ("Opłata za moc zamówioną", mw, "MW", capacity_price),
            ("Opłata przesyłowa stała", mw, "MW", fixed_price),
            ("Opłata przesyłowa zmienna", gj, "GJ", variable_price),
        ]
        return self.sum_lines(items, RATE_23)

    def sum_lines(self, items, rate=RATE_8):
        lines, net_total, vat_total = [], ZERO, ZERO
        for position, (description, quantity, unit, price) in enumerate(items, start=1):
            line, net, vat = self.line(position, description, quantity, unit, price, rate)
            lines.append(line)
            net_total += net
            vat_total += vat
        return lines, net_total, vat_total

    # ---------------------------------------------------------------- settlement: documents and payments

    def settle(self, rng, i, cid, number, kind, groups, out) -> None:
        today = self.today
        person = kind == "PERSON"
        r = rng.random()
        if person:
            late_p = 0.04 if r < 0.7 else 0.2 if r < 0.95 else 0.55
            max_late = 40
        else:  # firms and communities have accountants: seldom late, and not by much
            late_p = 0.03 if r < 0.8 else 0.15
            max_late = 20
        partial_p = 0.04 if rng.random() < 0.85 else 0.2
        debt_start = today - timedelta(days=randint(rng, 100, 330)) if rng.random() < 0.015 else None
        over_from = None  # an overpayment on the first bill issued after this day; the credit pays the next bills
        if rng.random() < 0.03:
            over_from = today - timedelta(days=randint(rng, 15, 75) if rng.random() < 0.7 else randint(rng, 75, 400))
        r = rng.random()
        if person:
            channel = "TRANSFER" if r < 0.62 else "ONLINE" if r < 0.82 else "CASH" if r < 0.95 else "CARD"
        else:
            channel = "TRANSFER" if r < 0.93 else "ONLINE" if r < 0.98 else "CASH"
        commercial = kind == "COMPANY"

        docs: list[_Doc] = []
        pays: list[_Pay] = []
        open_docs: list[_Doc] = []
        credit: list[list] = []  # [payment, unallocated cents], oldest first
        pending: list[tuple] = []  # late payments since the last interest note: (doc, days, cents)
        events: list[tuple] = []
        counter = 0

        def push(day: date, priority: int, kind_: str, payload) -> None:
            nonlocal counter
            counter += 1
            heapq.heappush(events, (day.toordinal(), priority, counter, kind_, payload))

        for (issue, _contract_id, _k), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1])):
            push(issue, 0, "issue", members)
        quarter = date(self.history_start.year, 1, 1)
        while quarter < today:
            note_day = workday(quarter + timedelta(days=9))
            if self.history_start < note_day < today:
                push(note_day, 3, "note", None)
            quarter = add_months(quarter, 3)

        def allocate(payment: _Pay, doc: _Doc, amount: int, stamp: int, late: bool) -> None:
            payment.allocs.append((doc, amount))
            doc.out_c -= amount
            doc.last = max(doc.last, stamp)
            payment.last = max(payment.last, stamp)
            if late and doc.kind == "INVOICE" and (payment.date - doc.due).days > INTEREST_GRACE_DAYS:
                pending.append((doc, (payment.date - doc.due).days, amount))

        def pay(payment: _Pay, targets: list) -> None:
            left = payment.amount_c
            stamp = payment.stamp
            for doc in targets:
                if left and doc.out_c > 0:
                    amount = min(left, doc.out_c)
                    allocate(payment, doc, amount, stamp, payment.date > doc.due and payment.channel != "OFFSET")
                    left -= amount
            if left:
                for doc in open_docs:
                    if left and doc.out_c > 0:
                        amount = min(left, doc.out_c)
                        allocate(payment, doc, amount, stamp, payment.date > doc.due and payment.channel != "OFFSET")
                        left -= amount
            if left:
                credit.append([payment, left])
            open_docs[:] = [d for d in open_docs if d.out_c > 0]

        def use_credit(doc: _Doc) -> None:
            while credit and doc.out_c > 0:
                entry = credit[0]
                amount = min(entry[1], doc.out_c)
                allocate(entry[0], doc, amount, doc.stamp, False)
                entry[1] -= amount
                if not entry[1]:
                    credit.pop(0)

        def payment_day(group_docs: list, late: bool, how: str) -> date:
            first = group_docs[0]
            if late:
                very_late = person and rng.random() < 0.15
                days = randint(rng, max_late + 1, 90) if very_late else randint(rng, 1, max_late)
                return first.due + timedelta(days=days)
            if how == "ONLINE" or rng.random() < 0.15:  # paid as soon as the bill arrives
                return first.issue + timedelta(days=randint(rng, 1, 6))
            day = first.due - timedelta(days=randint(rng, 0, 3) if rng.random() < 0.8 else randint(rng, 4, 10))
            return max(day, first.issue + timedelta(days=1 if how == "TRANSFER" else 2))

        def plan(group_docs: list, note: bool = False) -> None:
            nonlocal over_from
            first = group_docs[0]
            if debt_start and first.issue >= debt_start:
                return
            how = channel if rng.random() < 0.85 else rng.choice(("TRANSFER", "ONLINE", "CASH"))
            if note:
                if rng.random() < 0.25:
                    return
                push(payment_day(group_docs, rng.random() < 0.3, how), 2, "pay", _Plan(group_docs, "note", how))
                return
            late = rng.random() < late_p
            r = rng.random()
            if over_from and first.issue >= over_from:
                mode = "dup" if rng.random() < 0.5 else "round"
                over_from = None
            elif r < partial_p:
                mode = "partial"
            else:
                mode = "full"
            push(payment_day(group_docs, late, how), 2, "pay", _Plan(group_docs, mode, how))

        seq = 0
        while events:
            ordinal, _priority, _n, what, payload = heapq.heappop(events)
            day = date.fromordinal(ordinal)
            if what == "issue":
                group_docs = []
                for pid, service, p0, p1, lines, net, vat, issue, due_days in payload:
                    seq += 1
                    doc = _Doc(
                        "INVOICE", pid, issue, issue + timedelta(days=due_days), p0, p1, lines, net, vat, seq,
                        self.stamp(issue, rng), service,
                    )  # fmt: skip
                    docs.append(doc)
                    open_docs.append(doc)
                    use_credit(doc)
                    group_docs.append(doc)
                    if rng.random() < 0.004:
                        corr_day = workday(issue + timedelta(days=randint(rng, 10, 75)))
                        if corr_day < today:
                            push(corr_day, 1, "correction", doc)
                open_docs[:] = [d for d in open_docs if d.out_c > 0]
                plan(group_docs)
            elif what == "correction":
                original = payload
                correction = self.correction(rng, original, day, seq + 1)
                if correction is None:
                    continue
                seq += 1
                docs.append(correction)
                seq += 1
                offset = _Pay(day, -correction.gross_c, "OFFSET", ("offset", correction), [original],
                              correction.stamp, seq)  # fmt: skip
                pays.append(offset)
                pay(offset, [original])
            elif what == "note":
                by_doc: dict[int, list] = {}
                for doc, days, amount in pending:
                    entry = by_doc.setdefault(doc.seq, [doc, 0, Decimal(0)])
                    entry[1] = max(entry[1], days)
                    rate = late_interest_rate(doc.due) + (Decimal("4.5") if commercial else 0)
                    entry[2] += Decimal(amount) * rate * days / Decimal(3_650_000)
                items = [(doc, days, round_money(value)) for doc, days, value in by_doc.values()]
                items = [item for item in items if item[2] > 0]
                total = sum((item[2] for item in items), ZERO)
                if cents(total) < INTEREST_NOTE_THRESHOLD:
                    continue
                pending.clear()
                seq += 1
                note = _Doc("INTEREST_NOTE", None, day, day + timedelta(days=14), None, None, None, total, ZERO, seq,
                            self.stamp(day, rng), None)  # fmt: skip
                note.items = items
                docs.append(note)
                open_docs.append(note)
                use_credit(note)
                open_docs[:] = [d for d in open_docs if d.out_c > 0]
                plan([note], note=True)
            else:  # a payment
                if ordinal >= self.today_o:
                    continue
                p: _Plan = payload
                due_c = sum(d.out_c for d in p.docs)
                if p.mode in ("full", "rest", "note"):
                    amount = due_c
                elif p.mode == "partial":
                    amount = max(100, int(due_c * rng.uniform(0.3, 0.9)) // 100 * 100)
                    if amount >= due_c:
                        amount = due_c
                    elif p.docs[0].due >= today - timedelta(days=90) and rng.random() < 0.4:
                        pass  # the rest is still owed
                    else:
                        rest_day = day + timedelta(days=randint(rng, 10, 50))
                        push(rest_day, 2, "pay", _Plan(p.docs, "rest", p.channel))
                elif p.mode == "round":
                    amount = (due_c // 10000 + 1) * 10000 if due_c else 0
                elif p.mode == "dup":
                    amount = due_c
                    if amount:
                        push(
                            day + timedelta(days=randint(rng, 1, 6)),
                            2,
                            "pay",
                            _Plan(p.docs, "again", p.channel, amount),
                        )
                else:  # again: the same transfer once more
                    amount = p.amount_c
                if amount <= 0:
                    continue
                seq += 1
                booked = day + timedelta(days=1) if p.channel == "TRANSFER" else day
                stamp = self.stamp(min(booked, today), rng, 6 * 3600, 16 * 3600)
                payment = _Pay(day, amount, p.channel, (p.mode, None), p.docs, stamp, seq)
                pays.append(payment)
                pay(payment, p.docs)

            if debt_start and what == "issue" and day >= debt_start + timedelta(days=60) and rng.random() < 0.15:
                # a debtor now and then pays a round sum on account; it settles the oldest debts
                on_account = rng.choice((100, 150, 200, 300, 500)) * 100
                push(day + timedelta(days=randint(rng, 1, 20)), 2, "pay", _Plan([], "account", "TRANSFER", on_account))

        # ------------------------------------------------------------ numbers, ids and rows
        docs.sort(key=lambda d: (d.issue, d.seq))
        for n, doc in enumerate(docs, start=1):
            doc.id = f"F{i + 1:06d}{n:04d}"
            series = {"INVOICE": "FV", "CORRECTION": "FK", "INTEREST_NOTE": "NO"}[doc.kind]
            doc.number = self.next_number(series, doc.issue)
        pays.sort(key=lambda p: (p.date, p.seq))
        for n, payment in enumerate(pays, start=1):
            payment.id = f"P{i + 1:06d}{n:04d}"

        invoices = out["invoices"]
        for doc in docs:
            invoices.append(self.invoice_row(doc, cid))
        unallocated = 0
        payments = out["payments"]
        for payment in pays:
            allocated = sum(amount for _doc, amount in payment.allocs)
            unallocated += payment.amount_c - allocated
            payments.append(
                {
                    "id": payment.id,
                    "changed_at": self.fmt_stamp(payment.last),
                    "customer_id": cid,
                    "paid_date": payment.date.isoformat(),
                    "amount": money(payment.amount_c),
                    "channel": payment.channel,
                    "title": self.title(rng, payment, number),
                    "allocations": [{"invoice_id": doc.id, "amount": money(amount)} for doc, amount in payment.allocs],
                }
            )
        outstanding = sum(doc.out_c for doc in docs)
        overdue = sum(doc.out_c for doc in docs if doc.due < today)
        out["balances"].append(
            {
                "id": cid,
                "changed_at": self.generated_at,
                "balance": money(outstanding - unallocated),
                "overdue": money(overdue),
                "as_of": self.generated_at,
            }
        )
        if overdue >= 30000 and i % 5 == 0:  # some debtors agreed instalments at the office: no random draw here
            parts = 3
            each = overdue // parts
            out["payment_plans"].append(
                {
                    "id": f"PP-{cid}",
                    "changed_at": self.generated_at,
                    "customer_id": cid,
                    "status": "ACTIVE",
                    "total": money(overdue),
                    "portal_reference": "",
                    "schedule": [
                        {
                            "due_date": (today + timedelta(days=14 + 30 * k)).isoformat(),
                            "amount": money(each if k < parts - 1 else overdue - each * (parts - 1)),
                        }
                        for k in range(parts)
                    ],
                }
            )

    def correction(self, rng, original: _Doc, day: date, seq: int) -> _Doc | None:
        """A negative correcting invoice: a fixed fee charged twice, or a retroactive heat price cut."""
        if original.service == "WATER":
            line = original.lines[-1]  # Opłata abonamentowa
            items = [
                (f"Korekta: {line['description']} (naliczona podwójnie)", -Decimal(line["quantity"]), line["unit"],
                 Decimal(line["unit_price_net"])),
            ]  # fmt: skip
        else:
            heat = original.lines[0]
            quantity = Decimal(heat["quantity"])
            if quantity > 0:
                cut = Decimal(randint(rng, 100, 450)) / 100
                items = [("Korekta: Opłata za ciepło – obniżka ceny wg zmiany taryfy", quantity, "GJ", -cut)]
            else:
                fixed = original.lines[2]
                items = [
                    (f"Korekta: {fixed['description']} (błędna grupa taryfowa)", -Decimal(fixed["quantity"]), "MW",
                     Decimal(fixed["unit_price_net"])),
                ]  # fmt: skip
        lines, net, vat = self.sum_lines(items)
        if net + vat >= 0:
            return None
        doc = _Doc("CORRECTION", original.point_id, day, day + timedelta(days=14), original.p0, original.p1, lines,
                   net, vat, seq, self.stamp(day, rng), original.service)  # fmt: skip
        doc.corrected = original
        return doc

    def invoice_row(self, doc: _Doc, cid: str) -> dict:
        row = {
            "id": doc.id,
            "changed_at": self.fmt_stamp(doc.last),
            "customer_id": cid,
            "delivery_point_id": doc.point_id,
            "number": doc.number,
            "kind": doc.kind,
        }
        if doc.corrected is not None:
            row["corrected_invoice_id"] = doc.corrected.id
        row["issue_date"] = doc.issue.isoformat()
        row["due_date"] = doc.due.isoformat()
        if doc.p0 is not None:
            row["period_start"] = doc.p0.isoformat()
            row["period_end"] = doc.p1.isoformat()
        lines = doc.lines
        if doc.kind == "INTEREST_NOTE":
            lines = []
            for position, (late_doc, days, amount) in enumerate(doc.items, start=1):
                value = str(amount)
                lines.append(
                    {
                        "position": position,
                        "description": f"Odsetki ustawowe za opóźnienie: {late_doc.number}, {days} dni",
                        "quantity": "1",
                        "unit": "szt.",
                        "unit_price_net": value,
                        "net": value,
                        "vat_rate": "zw",
                        "vat": "0.00",
                        "gross": value,
                    }
                )
        gross = doc.net + doc.vat
        row["net"] = str(doc.net)
        row["vat"] = str(doc.vat)
        row["gross"] = str(gross)
        row["outstanding"] = money(doc.out_c)
        if doc.kind != "INTEREST_NOTE" and doc.issue >= KSEF_START:
            # The hash is the SHA-256 of the invoice's XML (FA(3)); the demo hashes a short stand-in of it.
            xml = f"<Faktura><P_1>{doc.issue}</P_1><P_2>{doc.number}</P_2><P_15>{gross}</P_15></Faktura>"
            row["ksef_hash"] = ksef_hash(xml)
            key = hashlib.sha256(f"{self.seed}:{doc.id}".encode()).digest()
            if (self.today - doc.issue).days < OFFLINE_DAYS and key[0] % 10 == 0:
                # Issued in KSeF's offline mode (the system was down) and not numbered yet: KOD I says OFFLINE,
                # KOD II carries the utility's offline certificate and its signature of the link (a stand-in).
                row["ksef_context_type"] = "Nip"
                row["ksef_context_id"] = self.seller_nip
                row["ksef_certificate_serial"] = key[1:9].hex().upper()
                row["ksef_certificate_signature"] = base64.urlsafe_b64encode(key * 8).rstrip(b"=").decode()
            else:
                row["ksef_number"] = ksef_number(self.seller_nip, doc.issue, f"{self.seed}:{doc.id}:{doc.number}")
        row["lines"] = lines
        return row

    @staticmethod
    def title(rng, payment: _Pay, customer_number: str) -> str:
        mode, extra = payment.title
        docs = payment.docs
        if mode == "offset":
            return f"Rozliczenie korekty {extra.number} do faktury {extra.corrected.number}"
        if mode == "account" or not docs:
            return f"Wpłata na poczet zadłużenia, nr odbiorcy {customer_number}"
        if len(docs) == 1:
            what = docs[0].number
        else:
            first = docs[0]
            what = f"faktury za okres {first.p0:%m.%Y}–{(first.p1 - timedelta(days=1)):%m.%Y} ({len(docs)} szt.)"
        if mode == "note":
            return f"Nota odsetkowa {what}"
        if mode == "rest":
            return f"Dopłata do {what}"
        if payment.channel == "ONLINE":
            return f"Płatność online {what}"
        if payment.channel == "CASH":
            return f"Wpłata w kasie BOK: {what}"
        if payment.channel == "CARD":
            return f"Płatność kartą w BOK: {what}"
        r = rng.random()
        if r < 0.4:
            return what
        if r < 0.7:
            return f"Nr odbiorcy {customer_number}, {what}"
        service = "wodę i ścieki" if docs[0].service == "WATER" else "ciepło"
        return f"Opłata za {service} {what}"


# --------------------------------------------------------------------------------------------- entry point


def write_demo_batch(
    out_dir: Path, *, customers: int, seed: int, years: int, today: date, seller_nip: str = SELLER_NIP
) -> dict[str, int]:
    """Write one full batch (manifest.json and the nine JSON Lines files) into out_dir; return rows per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _Batch(seed=seed, years=years, today=today, seller_nip=seller_nip)
    files = {
        name: (out_dir / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n", buffering=1 << 20)
        for name in ENTITIES
    }
    counts = dict.fromkeys(ENTITIES, 0)
    encode = batch.encode
    try:
        out = {name: [] for name in ENTITIES}
        for i in range(customers):
            batch.customer(i, out)
            if i % 50 == 49 or i == customers - 1:
                for name, rows in out.items():
                    if rows:
                        files[name].write("".join(encode(row) + "\n" for row in rows))
                        counts[name] += len(rows)
                        rows.clear()
    finally:
        for handle in files.values():
            handle.close()
    manifest = {"contract_version": CONTRACT_VERSION, "generated_at": batch.generated_at, "cursor": batch.generated_at,
                "full": True}  # fmt: skip
    (out_dir / "manifest.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return counts


def write_demo_changes(full_dir: Path, out_dir: Path, *, fraction: float, seed: int, changed_at: str) -> dict[str, int]:
    """Write a changed-since batch: what an hour in the billing system brings for `fraction` of the customers.

    For each chosen customer: new contact data, a new reading on every meter, a new invoice (the latest one
    issued again for the next period), the previous invoice paid by a new transfer, and a new balance. Reads
    the full batch as a stream, so it works on any size.
    """
    full_dir, out_dir = Path(full_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"ibok-demo-changes:{seed}")
    day = changed_at[:10]

    def records(name: str):
        with (full_dir / f"{name}.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)

    chosen: dict[str, dict] = {r["id"]: r for r in records("customers") if rng.random() < fraction}
    point_customer = {r["id"]: r["customer_id"] for r in records("delivery_points") if r["customer_id"] in chosen}
    meter_customer = {r["id"]: point_customer[r["delivery_point_id"]] for r in records("meters")
                      if r["delivery_point_id"] in point_customer and not r.get("removed_date")}  # fmt: skip
    last_reading: dict[str, dict] = {}
    for r in records("readings"):
        if r["meter_id"] in meter_customer:
            last_reading[r["meter_id"]] = r
    last_invoice: dict[str, dict] = {}
    for r in records("invoices"):
        if r["customer_id"] in chosen and r["kind"] == "INVOICE":
            last_invoice[r["customer_id"]] = r
    balances = {r["id"]: r for r in records("balances") if r["id"] in chosen}

    out: dict[str, list[dict]] = {name: [] for name in ENTITIES}
    for customer in chosen.values():
        out["customers"].append({**customer, "changed_at": changed_at, "phone": f"+48600{rng.randrange(10**6):06d}"})
    for reading in last_reading.values():
        step = Decimal(reading["value"]) + Decimal(rng.randint(1, 9000)) / 1000
        out["readings"].append({**reading, "id": f"{reading['id']}-N", "changed_at": changed_at, "read_date": day,
                                "value": f"{step:.3f}", "source": "REMOTE"})  # fmt: skip
    for customer_id, invoice in last_invoice.items():
        new = {**invoice, "id": f"{invoice['id']}-N", "number": f"{invoice['number']}/N", "changed_at": changed_at,
               "issue_date": day, "due_date": (date.fromisoformat(day) + timedelta(days=14)).isoformat(),
               "outstanding": invoice["gross"], "ksef_number": "", "ksef_hash": ""}  # fmt: skip
        for field in ("ksef_context_type", "ksef_context_id", "ksef_certificate_serial", "ksef_certificate_signature"):
            new.pop(field, None)  # not sent to KSeF yet: no hash, so no offline KOD II either
        if invoice.get("period_end"):
            start, end = date.fromisoformat(invoice["period_start"]), date.fromisoformat(invoice["period_end"])
            new["period_start"], new["period_end"] = end.isoformat(), (end + (end - start)).isoformat()
        out["invoices"].append(new)
        settled = Decimal(invoice["outstanding"])
        if settled > 0:
            out["invoices"].append({**invoice, "changed_at": changed_at, "outstanding": "0.00"})
            amount = f"{settled:.2f}"
            out["payments"].append(
                {
                    "id": f"P-{invoice['id']}-N",
                    "changed_at": changed_at,
                    "customer_id": customer_id,
                    "paid_date": day,
                    "amount": amount,
                    "channel": "TRANSFER",
                    "title": invoice["number"],
                    "allocations": [{"invoice_id": invoice["id"], "amount": amount}],
                }
            )
        if customer_id in balances:
            balance = balances[customer_id]
            value = Decimal(balance["balance"]) + Decimal(invoice["gross"]) - settled
            out["balances"].append(
                {**balance, "changed_at": changed_at, "as_of": changed_at, "balance": f"{value:.2f}"}
            )
    for name, rows in out.items():
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    manifest = {"contract_version": CONTRACT_VERSION, "generated_at": changed_at, "cursor": changed_at, "full": False}
    (out_dir / "manifest.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return {name: len(rows) for name, rows in out.items()}
