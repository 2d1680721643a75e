"""The jurisdiction registry: districts, mandals and ULBs, villages and wards, and the files it comes from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sevamitra.adapters.jurisdiction_files import (
    DEFAULT_JURISDICTIONS_DIR,
    JurisdictionFileError,
    load_jurisdictions,
)
from sevamitra.core.jurisdictions import JurisdictionError, Jurisdictions, Place, normalise, romanised_key

DETAILED = ("ntr", "guntur", "visakhapatnam")


@pytest.fixture(scope="module")
def registry() -> Jurisdictions:
    return load_jurisdictions()


def names(en: str) -> dict[str, str]:
    return {"te": f"te {en}", "en": en, "hi": f"hi {en}"}


def get(registry: Jurisdictions, place_id: str) -> Place:
    found = registry.get(place_id)
    assert found is not None, place_id
    return found


def place(place_id: str, kind: str, parent: str | None, secretariat: str | None = None) -> Place:
    return Place(
        id=place_id, kind=kind, names=names(place_id.rsplit("/", 1)[-1]), parent=parent, secretariat=secretariat
    )


# The shipped data


def test_all_26_districts_are_named_in_telugu_english_and_hindi(registry: Jurisdictions) -> None:
    districts = registry.districts()
    assert len(districts) == 26
    for district in districts:
        assert all(district.names.get(lang) for lang in ("te", "en", "hi")), district.id
        assert all(district.headquarters.get(lang) for lang in ("te", "en", "hi")), district.id
    ids = {d.id for d in districts}
    assert {"ntr", "krishna", "guntur", "visakhapatnam", "sri-potti-sriramulu-nellore"} <= ids
    assert {"dr-b-r-ambedkar-konaseema", "alluri-sitharama-raju", "ysr-kadapa"} <= ids
    assert get(registry, "ntr").headquarters["en"] == "Vijayawada"


def test_districts_come_in_english_alphabetical_order(registry: Jurisdictions) -> None:
    english = [d.names["en"] for d in registry.districts()]
    assert english == sorted(english, key=str.casefold)
    assert english[0] == "Alluri Sitharama Raju"


@pytest.mark.parametrize("district_id", DETAILED)
def test_detailed_districts_are_complete_with_at_least_ten_mandals_and_ulbs(
    registry: Jurisdictions, district_id: str
) -> None:
    assert registry.is_complete(district_id)
    units = registry.children(district_id)
    assert len(units) >= 10
    assert {registry.level_of(u.id) for u in units} == {"mandal"}
    assert any(u.kind == "mandal" for u in units)
    assert any(u.kind == "municipal_corporation" for u in units)


def test_a_district_known_by_name_only_is_not_complete(registry: Jurisdictions) -> None:
    assert not registry.is_complete("srikakulam")
    assert registry.children("srikakulam") == ()


def test_ntr_has_its_twenty_mandals_and_five_ulbs(registry: Jurisdictions) -> None:
    units = registry.children("ntr")
    mandals = {u.names["en"] for u in units if u.kind == "mandal"}
    assert len(mandals) == 20
    assert {"Vijayawada Rural", "Ibrahimpatnam", "Jaggayyapeta", "Tiruvuru", "G. Konduru", "Reddigudem"} <= mandals
    ulbs = {u.names["en"]: u.kind for u in units if u.kind != "mandal"}
    assert ulbs == {
        "Vijayawada Municipal Corporation": "municipal_corporation",
        "Jaggayyapeta Municipality": "municipality",
        "Kondapalli Municipality": "municipality",
        "Nandigama Nagar Panchayat": "nagar_panchayat",
        "Tiruvuru Nagar Panchayat": "nagar_panchayat",
    }


def test_every_village_and_ward_has_a_secretariat(registry: Jurisdictions) -> None:
    local = [p for p in registry if registry.level_of(p.id) == "village"]
    assert len(local) > 300
    for p in local:
        assert p.secretariat, p.id
    for p in registry:
        if registry.level_of(p.id) != "village":
            assert p.secretariat is None, p.id
    assert get(registry, "ntr/vijayawada-corporation/ward-12").secretariat == "ws:ntr/vijayawada-corporation/ward-12"
    assert get(registry, "ntr/vijayawada-rural/nunna").secretariat == "gs:ntr/vijayawada-rural/nunna"


def test_vijayawada_has_64_wards_named_in_three_languages(registry: Jurisdictions) -> None:
    wards = registry.children("ntr/vijayawada-corporation")
    assert [w.id.rsplit("/", 1)[1] for w in wards] == [f"ward-{n}" for n in range(1, 65)]
    ward = wards[11]
    assert (ward.name("en"), ward.name("te"), ward.name("hi")) == ("Ward 12", "వార్డు 12", "वार्ड 12")
    assert ward.kind == "ward"


def test_children_are_sorted_by_english_name(registry: Jurisdictions) -> None:
    for parent in ("ntr", "guntur", "guntur/thullur", "ntr/vijayawada-rural"):
        english = [c.names["en"] for c in registry.children(parent)]
        assert english == sorted(english, key=str.casefold), parent


def test_wards_sort_numerically_not_as_text(registry: Jurisdictions) -> None:
    english = [w.names["en"] for w in registry.children("visakhapatnam/greater-visakhapatnam-corporation")]
    assert english[:3] == ["Ward 1", "Ward 2", "Ward 3"]
    assert english[9] == "Ward 10"
    assert english[-1] == "Ward 98"


def test_path_runs_from_the_district_down_to_the_place(registry: Jurisdictions) -> None:
    path = registry.path("ntr/vijayawada-corporation/ward-12")
    assert [p.id for p in path] == ["ntr", "ntr/vijayawada-corporation", "ntr/vijayawada-corporation/ward-12"]
    assert [p.name("te") for p in path] == ["ఎన్టీఆర్", "విజయవాడ నగరపాలక సంస్థ", "వార్డు 12"]
    assert [p.id for p in registry.path("guntur")] == ["guntur"]


def test_levels_count_ulbs_as_mandals_and_wards_as_villages(registry: Jurisdictions) -> None:
    assert registry.level_of("guntur") == "district"
    assert registry.level_of("guntur/tadikonda") == "mandal"
    assert registry.level_of("guntur/tenali-municipality") == "mandal"
    assert registry.level_of("guntur/tadikonda/lam") == "village"
    assert registry.level_of("guntur/tenali-municipality/ward-7") == "village"


def test_unknown_ids_are_none_from_get_and_key_errors_elsewhere(registry: Jurisdictions) -> None:
    assert registry.get("ntr/nowhere") is None
    assert "ntr/nowhere" not in registry
    for method in (registry.children, registry.path, registry.level_of, registry.is_complete):
        with pytest.raises(KeyError, match="ntr/nowhere"):
            method("ntr/nowhere")


# Finding a place by what a citizen types


def test_find_in_english_ignores_case_spaces_and_dots(registry: Jurisdictions) -> None:
    assert registry.find("VIJAYAWADA RURAL")[0].id == "ntr/vijayawada-rural"
    assert registry.find("gkonduru")[0].id == "ntr/g-konduru"
    assert registry.find("Sri Potti Sriramulu")[0].id == "sri-potti-sriramulu-nellore"


def test_find_in_telugu_and_hindi(registry: Jurisdictions) -> None:
    assert registry.find("తుళ్లూరు")[0].id == "guntur/thullur"
    assert registry.find("గుంటూరు")[0].id == "guntur"
    assert registry.find("विजयवाड़ा ग्रामीण")[0].id == "ntr/vijayawada-rural"


def test_find_ranks_exact_then_prefix_then_substring(registry: Jurisdictions) -> None:
    found = [p.id for p in registry.find("guntur", limit=10)]
    assert found[0] == "guntur"  # exact
    assert set(found[1:4]) == {"guntur/guntur-east", "guntur/guntur-west", "guntur/guntur-corporation"}  # prefix
    assert [p.id for p in registry.find("vijayawada")][:2] == ["ntr/vijayawada-central", "ntr/vijayawada-east"]
    assert registry.find("rural", limit=10)[0].id == "ntr/vijayawada-rural"  # substring only


def test_find_matches_loose_latin_spellings_of_telugu_names(registry: Jurisdictions) -> None:
    assert registry.find("Tirupathi")[0].id == "tirupati"
    assert registry.find("Gunturu")[0].id == "guntur"
    assert registry.find("Thulluru")[0].id == "guntur/thullur"
    assert registry.find("Vijayavada Rural")[0].id == "ntr/vijayawada-rural"


def test_find_within_a_place_and_up_to_a_limit(registry: Jurisdictions) -> None:
    found = registry.find("ward 12", within="ntr/vijayawada-corporation")
    assert [p.id for p in found] == ["ntr/vijayawada-corporation/ward-12"]
    wards = registry.find("ward 1", within="ntr/vijayawada-corporation", limit=3)
    assert [p.names["en"] for p in wards] == ["Ward 1", "Ward 10", "Ward 11"]
    assert all(p.id.startswith("guntur/") for p in registry.find("a", within="guntur", limit=50))
    with pytest.raises(KeyError):
        registry.find("x", within="nowhere")


def test_find_falls_back_to_a_district_headquarters(registry: Jurisdictions) -> None:
    assert registry.find("Ongole")[0].id == "prakasam"
    assert registry.find("nunna")[0].id == "ntr/vijayawada-rural/nunna"  # the village before the mandal it heads


def test_find_returns_nothing_for_blank_or_unknown_text(registry: Jurisdictions) -> None:
    assert registry.find("  .- ") == []
    assert registry.find("atlantis") == []
    assert registry.find("guntur", limit=0) == []


def test_normalise_and_romanised_key() -> None:
    assert normalise("G. Konduru") == normalise("g konduru") == "gkonduru"
    assert romanised_key("Thirupathi") == romanised_key("Tirupati")
    assert romanised_key("Jaggayyapeta") == romanised_key("Jagayapeta")
    assert romanised_key("తిరుపతి") == "తిరుపతి"


# Invalid data is refused with a precise message


def test_an_unknown_parent_is_rejected() -> None:
    with pytest.raises(JurisdictionError, match=r"place 'ntr/x': parent 'ntr' does not exist") as info:
        Jurisdictions([place("ntr/x", "mandal", "ntr")])
    assert info.value.place_id == "ntr/x"


def test_a_duplicate_id_is_rejected() -> None:
    with pytest.raises(JurisdictionError, match=r"place 'ntr': duplicate id"):
        Jurisdictions([place("ntr", "district", None), place("ntr", "district", None)])


@pytest.mark.parametrize(
    ("places", "message"),
    [
        ([place("ntr", "county", None)], r"place 'ntr': unknown kind 'county'"),
        ([place("ntr", "mandal", None)], r"place 'ntr': a mandal cannot sit under the state"),
        (
            [place("ntr", "district", None), place("ntr/w", "ward", "ntr", "ws:1")],
            r"place 'ntr/w': a ward cannot sit under a district \('ntr'\)",
        ),
        (
            [place("ntr", "district", None), place("ntr/m", "mandal", "ntr"), place("ntr/m/w", "ward", "ntr/m", "s")],
            r"a ward cannot sit under a mandal",
        ),
        (
            [place("ntr", "district", None), place("ntr/m", "mandal", "ntr"), place("ntr/m/v", "village", "ntr/m")],
            r"place 'ntr/m/v': a village needs the id of the secretariat serving it",
        ),
        (
            [place("ntr", "district", None, "gs:1")],
            r"place 'ntr': a district has no secretariat of its own",
        ),
        (
            [place("ntr", "district", None), place("guntur/m", "mandal", "ntr")],
            r"place 'guntur/m': id must be ntr/<slug>",
        ),
        ([place("NTR", "district", None)], r"place 'NTR': id must be <slug>"),
    ],
)
def test_kinds_levels_ids_and_secretariats_are_checked(places: list[Place], message: str) -> None:
    with pytest.raises(JurisdictionError, match=message):
        Jurisdictions(places)


def test_a_place_needs_an_english_name() -> None:
    with pytest.raises(JurisdictionError, match="needs an English name"):
        Jurisdictions([Place(id="ntr", kind="district", names={"te": "ఎన్టీఆర్"}, parent=None)])


# The files


def test_the_shipped_files_load(registry: Jurisdictions) -> None:
    assert DEFAULT_JURISDICTIONS_DIR.is_dir()
    assert len(load_jurisdictions(DEFAULT_JURISDICTIONS_DIR)) == len(registry) > 500


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "jurisdictions"
    shutil.copytree(DEFAULT_JURISDICTIONS_DIR, root)
    return root


def test_a_new_district_file_of_the_same_shape_completes_that_district(data_dir: Path) -> None:
    (data_dir / "krishna.yaml").write_text(
        "district: krishna\n"
        "mandals:\n"
        "  - id: pedana\n"
        "    names: {te: పెడన, en: Pedana, hi: पेडना}\n"
        "    villages:\n"
        "      - {id: pedana, names: {te: పెడన, en: Pedana, hi: पेडना}, secretariat: '10490001'}\n"
        "urban_local_bodies:\n"
        "  - {id: pedana-municipality, kind: municipality, names: {te: పెడన పురపాలక సంఘం, en: Pedana Municipality,"
        " hi: पेडना नगरपालिका}, wards: 23}\n",
        encoding="utf-8",
    )
    registry = load_jurisdictions(data_dir)
    assert registry.is_complete("krishna")
    assert get(registry, "krishna/pedana/pedana").secretariat == "10490001"
    assert len(registry.children("krishna/pedana-municipality")) == 23


def test_a_file_naming_an_unknown_parent_is_rejected_with_its_name(data_dir: Path) -> None:
    (data_dir / "atlantis.yaml").write_text("district: atlantis\nmandals: []\n", encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match=r"atlantis\.yaml: district 'atlantis' is not in districts\.yaml"):
        load_jurisdictions(data_dir)


def test_a_duplicate_id_in_a_file_is_rejected_with_its_name(data_dir: Path) -> None:
    path = data_dir / "guntur.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - id: guntur-west\n", "  - id: guntur-east\n"), encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match=r"guntur\.yaml: place 'guntur/guntur-east': duplicate id"):
        load_jurisdictions(data_dir)


def test_a_duplicate_district_is_rejected_with_the_districts_file_name(data_dir: Path) -> None:
    path = data_dir / "districts.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: krishna", "id: ntr"), encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match=r"districts\.yaml: place 'ntr': duplicate id"):
        load_jurisdictions(data_dir)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("district: ntr\nmandal: []\n", r"ntr\.yaml: mandal: Extra inputs are not permitted"),
        (
            "district: ntr\nmandals:\n  - {id: x, names: {en: X}}\n",
            r"ntr\.yaml: mandals\.0\.names: Value error, missing names in te, hi",
        ),
        (
            "district: ntr\nurban_local_bodies:\n  - {id: x, kind: city, names: {te: a, en: b, hi: c}}\n",
            r"ntr\.yaml: urban_local_bodies\.0\.kind: Input should be",
        ),
        ("district: ntr\nmandals:\n  - {id: Bad Id, names: {te: a, en: b, hi: c}}\n", r"mandals\.0\.id: String should"),
        ("district: guntur\n", r"ntr\.yaml: names district 'guntur'; the file must be guntur\.yaml"),
        ("district: ntr\nmandals: [\n", r"ntr\.yaml: while parsing"),
        ("- just a list\n", r"ntr\.yaml: \(top level\): Input should be a valid dictionary"),
    ],
)
def test_malformed_district_files_are_rejected_with_the_file_name(data_dir: Path, content: str, message: str) -> None:
    (data_dir / "ntr.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(JurisdictionFileError, match=message):
        load_jurisdictions(data_dir)
