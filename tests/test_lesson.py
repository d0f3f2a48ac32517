"""The lessons' shared helpers."""

import pytest

from replsim.errors import ConfigError
from replsim.lesson import check_choice, check_prediction


def test_check_prediction_says_right_wrong_or_asks_for_a_guess(capsys):
    assert check_prediction(None, 40, "Channel B is {} entries behind") is None
    assert check_prediction(40, 40, "Channel B is {} entries behind") is True
    assert check_prediction(39.5, 40, "{} entries", tolerance=1) is True
    assert check_prediction(7, 50, "{}% of the time", unit="%", explain="Half of every 100 ms.") is False
    assert check_prediction("many", 3, "{} rows", source="PostgreSQL") is False
    assert capsys.readouterr().out.splitlines() == [
        "Put your guess in my_prediction above, then run these cells again.",
        "Right: Channel B is 40 entries behind.",
        "Right: 40 entries (you said 39.5, close enough).",
        "Not quite: you said 7%, the simulation says 50%. Half of every 100 ms.",
        "Not quite: you said many, PostgreSQL says 3.",
    ]


def test_check_prediction_within_its_tolerance_says_how_close(capsys):
    assert check_prediction(41, 40, "Channel B is {} entries behind", tolerance=1) is True
    assert capsys.readouterr().out == "Right: Channel B is 40 entries behind (you said 41, close enough).\n"


WHY = {
    "a": "Only if the leader waits for it.",
    "b": "Yes: nothing waits for the copy.",
    "c": "No vote happens.",
}


def test_check_choice_explains_the_choice_made_and_never_names_the_answer_on_a_wrong_one(capsys):
    assert check_choice(None, "b", WHY) is None
    assert check_choice("B)", "b", WHY) is True
    assert check_choice("a", "b", WHY) is False
    assert check_choice("z", "b", WHY) is None
    assert capsys.readouterr().out.splitlines() == [
        "Put one letter (a, b, c) in my_choice above, then run this cell again.",
        "Right (b): Yes: nothing waits for the copy.",
        "Not quite (a): Only if the leader waits for it. Try another answer.",
        "'z' is not one of the choices: put one letter (a, b, c) in my_choice.",
    ]


@pytest.mark.parametrize(
    "right, why",
    [
        ("d", WHY),
        ("a", {"a": "alone"}),
        ("a", {"a": "x", "bb": "y"}),
        ("a", {"a": "x", "b": ""}),
        ("a", ["a"]),
    ],
)
def test_check_choice_refuses_a_question_that_is_not_well_formed(right, why):
    with pytest.raises(ConfigError, match="why must map|right must be one of"):
        check_choice("a", right, why)
