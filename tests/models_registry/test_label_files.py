import json

import pytest

from core.exceptions import ApplicationError
from models_registry.label_files import parse_label_file


def test_txt_one_name_per_line():
    labels = parse_label_file(filename="x.TXT", data=b"\xef\xbb\xbfcat\n\n Dog \nbird\n")
    assert [(label.key, label.name) for label in labels] == [
        ("cat", "cat"),
        ("dog", "Dog"),
        ("bird", "bird"),
    ]


def test_csv_with_header_and_spanish():
    data = b"key,name,name_es\nn1,tabby cat,gato atigrado\nn2,espresso,\n"
    labels = parse_label_file(filename="labels.csv", data=data)
    assert labels[0].key == "n1" and labels[0].translations == {"es": "gato atigrado"}
    assert labels[1].translations == {}


def test_json_names_or_objects():
    data = json.dumps(
        [
            {"key": "a", "name": "Apple", "name_es": "Manzana"},
            {"name": "Pear", "translations": {"es": "Pera", "fr": "Poire"}},
        ]
    ).encode()
    labels = parse_label_file(filename="l.json", data=data)
    assert labels[0].translations == {"es": "Manzana"}
    assert labels[1].key == "pear" and labels[1].translations["fr"] == "Poire"
    assert len(parse_label_file(filename="l.json", data=b'["a", "b"]')) == 2


def test_names_in_any_script_get_a_key():
    labels = parse_label_file(filename="l.txt", data="猫\n犬\n".encode())
    assert [label.key for label in labels] == ["class-1", "class-2"]


@pytest.mark.parametrize(
    ("filename", "data", "fragment"),
    [
        ("l.exe", b"a\nb", "Upload a .txt"),
        ("l.txt", b"only-one", "at least two"),
        ("l.txt", b"\xff\xfe\x00garbage", "UTF-8"),
        ("l.txt", b"cat\ncat\n", "more than once"),
        ("l.csv", b"a,b,c,d\nx,y\n", "2 or 3 columns"),
        ("l.json", b"{not json", "not valid"),
        ("l.json", b'{"a": 1}', "must be a list"),
        ("l.json", b'[{"key": "x"}, "y"]', "needs a name"),
        ("l.json", b'[{"name": "x", "translations": {"es": 3}}, "y"]', "invalid translations"),
        ("l.txt", ("x" * 201 + "\nb").encode(), "longer than 200"),
    ],
)
def test_bad_label_files(filename, data, fragment):
    with pytest.raises(ApplicationError) as error:
        parse_label_file(filename=filename, data=data)
    assert fragment in str(error.value.message)
    assert error.value.code == "invalid_label_file"


def test_limits(settings):
    settings.LABEL_SET_MAX_CLASSES = 3
    with pytest.raises(ApplicationError, match="at most 3"):
        parse_label_file(filename="l.txt", data=b"a\nb\nc\nd")
    settings.LABEL_FILE_MAX_BYTES = 10
    with pytest.raises(ApplicationError, match="too large"):
        parse_label_file(filename="l.txt", data=b"abcdef\nghijkl")
