import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnihcp.masterdata.standardise import (
    department_code,
    hospital_city,
    hospital_core,
    hospital_name,
    hospital_numerals,
    parse_address,
    person_name,
    phone_digits,
    title_code,
)

DICTIONARY = [
    ("D01", "心内科", ["心血管内科", "心脏内科"]),
    ("D02", "消化内科", ["消化科", "胃肠内科"]),
    ("D12", "药剂科", ["药学部"]),
]


@pytest.mark.parametrize(
    ("written", "standard"),
    [
        ("北医三院", "北京大学第三医院"),
        ("北京大學第三醫院", "北京大学第三医院"),
        ("浙江大学医学院附一院", "浙江大学医学院附属第一医院"),
        ("郑州大学一附院", "郑州大学第一附属医院"),
        ("杭州市1院", "杭州市第一医院"),
        ("杭州一院", "杭州第一医院"),
        ("上海市第10人民医院", "上海市第十人民医院"),
        ("广州市第12人民医院", "广州市第十二人民医院"),
        ("湘雅二医院", "中南大学湘雅二医院"),
        ("  华西医院 ", "四川大学华西医院"),
    ],
)
def test_hospital_names_written_many_ways_get_the_registered_name(written, standard):
    assert hospital_name(written).name == standard


def test_a_campus_stays_distinct_but_shares_the_institution():
    main = hospital_name("浙江大学医学院附属第一医院")
    campus = hospital_name("浙江大学医学院附属第一医院（之江院区）")
    assert (campus.base, campus.campus) == ("浙江大学医学院附属第一医院", "之江院区")
    assert campus.name == "浙江大学医学院附属第一医院之江院区"
    assert campus.key == main.key
    assert campus.name != main.name


def test_the_matching_key_ignores_province_and_city_suffixes():
    assert hospital_name("杭州市第一人民医院").key == hospital_name("杭州第一人民医院").key
    assert hospital_name("浙江省人民医院").key == "浙江人民医院"


@pytest.mark.parametrize(
    ("written", "registered"),
    [
        ("浙大一院", "浙江大学医学院附属第一医院"),
        ("浙大附1院", "浙江大学医学院附属第一医院"),
        ("郑大1附院", "郑州大学第一附属医院"),
        ("郑州大学附属第一医院", "郑州大学第一附属医院"),
        ("南医大一附院", "南京医科大学第一附属医院"),
        ("湘雅二医院", "中南大学湘雅二医院"),
        ("杭州市一医院", "杭州市第一医院"),
        ("杭州市中医医院", "杭州市中医院"),
        ("杭州市妇保院", "杭州市妇幼保健院"),
        ("西湖区翠苑社区卫生服务中心", "西湖区翠苑街道社区卫生服务中心"),
        ("永安卫生院", "永安镇卫生院"),
    ],
)
def test_spellings_of_one_institution_share_the_matching_key(written, registered):
    assert hospital_name(written).key == hospital_name(registered).key


def test_spellings_of_different_institutions_keep_different_keys():
    assert hospital_name("杭州市第一医院").key != hospital_name("杭州市第十一医院").key
    assert hospital_name("浙大一院").key != hospital_name("浙大二院").key
    assert hospital_name("杭州市中医院").key != hospital_name("杭州市中心医院").key


@pytest.mark.parametrize(
    ("written", "name", "campus"),
    [
        ("重庆医科大学附属第一医院 药剂科", "重庆医科大学附属第一医院", ""),
        ("杭州市第一人民医院-药库", "杭州市第一人民医院", ""),
        ("四川大学华西医院（青羊院区）-药库", "四川大学华西医院青羊院区", "青羊院区"),
        ("浙大一院(之江院区)", "浙江大学医学院第一医院之江院区", "之江院区"),
        ("邵逸夫(滨江院区)", "浙江大学医学院附属邵逸夫医院滨江院区", "滨江院区"),
    ],
)
def test_departments_a_distributor_appends_are_dropped_and_campuses_kept(written, name, campus):
    standard = hospital_name(written)
    assert (standard.name, standard.campus) == (name, campus)


@given(st.text(alphabet="北京上海杭州市第一二三人民医院附属大学（）() 1234", max_size=20))
def test_hospital_standardisation_is_idempotent(text):
    once = hospital_name(text)
    assert hospital_name(once.name) == once


@given(
    st.text(
        alphabet="浙大郑州市第一二三十人民医院附属学（）()院区分药剂科库中心卫生服务街道镇妇保 12",
        max_size=24,
    )
)
def test_standardising_abbreviations_campuses_and_departments_is_idempotent(text):
    once = hospital_name(text)
    assert hospital_name(once.name) == once


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("副主任医师", "associate_chief"),
        ("主任医师", "chief_physician"),
        ("主任", "chief_physician"),
        ("主治医生", "attending"),
        ("住院医师", "resident"),
        ("主管药师", "pharmacist"),
        ("Attending", "attending"),
        ("院长", ""),
    ],
)
def test_free_text_titles_map_to_the_title_dictionary(written, code):
    assert title_code(written) == code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("心内科", "D01"),
        ("心血管内科", "D01"),
        ("消化科", "D02"),
        ("消化內科", "D02"),
        ("药学部", "D12"),
        ("心内一科", "D01"),
        ("口腔科", ""),
    ],
)
def test_department_names_map_by_name_synonym_or_closeness(written, code):
    assert department_code(written, DICTIONARY) == code


def test_addresses_split_into_province_city_and_district():
    address = parse_address("浙江省杭州市西湖区解放路88号")
    assert (address.province, address.city, address.district, address.street) == (
        "浙江省",
        "杭州市",
        "西湖区",
        "解放路88号",
    )
    beijing = parse_address("北京市海淀区花园北路49号")
    assert (beijing.province, beijing.city, beijing.district) == ("北京市", "北京市", "海淀区")
    assert parse_address("").province == ""


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["{p}", "+86 {p}", "+86-{a}-{b}-{c}", "0086{p}", "({a}) {b} {c}", "８６{p}"]),
)
def test_phone_digits_reads_every_common_way_of_writing_a_mobile(phone, template):
    written = template.format(p=phone, a=phone[:3], b=phone[3:7], c=phone[7:])
    written = written.replace("８６", "86")
    assert phone_digits(written) == phone


def test_phone_digits_rejects_what_is_not_a_mobile():
    assert phone_digits("0571-87654321") == ""
    assert phone_digits("12345") == ""


def test_person_names_compare_simplified_and_without_spaces():
    assert person_name("張 偉") == "张伟"
    assert person_name("Li, Ming") == "liming"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("柯桥区康桥社区卫生服务中心", "柯桥区新村社区卫生服务中心"),
        ("杭州第一医院", "杭州第三医院"),
        ("金华金东区老城卫生院", "金华金东区孝顺卫生院"),
    ],
)
def test_neighbouring_institutions_keep_what_tells_them_apart(one, other):
    assert hospital_core(one) != hospital_core(other)
    assert hospital_core(one)[:2] != hospital_core(other)[:2] or (
        hospital_numerals(one) != hospital_numerals(other)
    )


@pytest.mark.parametrize(
    ("written", "city", "core"),
    [
        ("绍兴柯桥区康桥社区卫生服务中心", "", "康桥社区卫生服务中心"),
        ("冬莞四医院", "东莞市", "四医院"),  # the city misspelt: known from the city column
        ("白云曲中医院", "广州", "中医院"),
        ("济南第一人民医院", "", "一医院"),
        ("浙江大学医学院第一医院", "", "浙江大学医学院一医院"),  # a university keeps its place
    ],
)
def test_the_core_of_a_hospital_drops_its_places_even_misspelt(written, city, core):
    assert hospital_core(written, city=city) == core


@pytest.mark.parametrize(
    ("key", "city"),
    [("杭州第一医院", "杭州"), ("柯桥区康桥社区卫生服务中心", "绍兴"), ("北京协和医院", "北京")],
)
def test_a_hospital_name_tells_its_city_unless_the_place_is_in_several(key, city):
    assert hospital_city(key) == city
    assert hospital_city("朝阳区人民医院") == ""  # Beijing's and Changchun's
    assert hospital_city("协和医院") == ""


def test_a_chains_branch_tells_its_city_in_brackets_and_a_university_keeps_its_place():
    assert hospital_city("海王星辰兰州南关店", text="海王星辰（兰州南关店）") == "兰州"
    assert hospital_city("中山大学第一医院") == ""  # 中山大学 is in Guangzhou, not 中山市
    assert hospital_core("大参林深圳南关路店", city="深圳市") == "大参林南关路店"
